"""Channels: parts sent for replies, and pairing requests and approvals.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 05:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import assistant.store.columns

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    instant = assistant.store.columns.UTCDateTime
    op.create_table(
        "sentpart",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reply_id", sa.Integer(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("provider_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("sent_at", instant(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["reply_id"], ["reply.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "provider_id", name="uq_sent_part_channel_provider_id"),
    )
    with op.batch_alter_table("sentpart", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sentpart_reply_id"), ["reply_id"], unique=False)
    op.create_table(
        "pairing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=True),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("other_address", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", instant(timezone=True), nullable=False),
        sa.Column("expires_at", instant(timezone=True), nullable=True),
        sa.Column("decided_at", instant(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["chat_id"], ["chat.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pairing", schema=None) as batch_op:
        batch_op.create_index("ix_pairing_status_address", ["status", "address"], unique=False)
        batch_op.create_index(batch_op.f("ix_pairing_code"), ["code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pairing", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pairing_code"))
        batch_op.drop_index("ix_pairing_status_address")
    op.drop_table("pairing")
    with op.batch_alter_table("sentpart", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sentpart_reply_id"))
    op.drop_table("sentpart")
