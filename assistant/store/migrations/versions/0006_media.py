"""Media files: what people send and what replies carry.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import assistant.store.columns

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "mediafile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("reply_id", sa.Integer(), nullable=True),
        sa.Column("kind", text(length=16), nullable=False),
        sa.Column("mime", text(length=128), nullable=False),
        sa.Column("name", text(length=255), nullable=False),
        sa.Column("path", text(length=512), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("voice", sa.Boolean(), nullable=False),
        sa.Column("created_at", assistant.store.columns.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["chat_id"], ["chat.id"]),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"]),
        sa.ForeignKeyConstraint(["reply_id"], ["reply.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("mediafile", schema=None) as batch_op:
        for column in ("chat_id", "message_id", "reply_id", "created_at"):
            batch_op.create_index(batch_op.f(f"ix_mediafile_{column}"), [column], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mediafile", schema=None) as batch_op:
        for column in ("created_at", "reply_id", "message_id", "chat_id"):
            batch_op.drop_index(batch_op.f(f"ix_mediafile_{column}"))
    op.drop_table("mediafile")
