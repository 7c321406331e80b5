"""Trust: approvals, and the keys that make a tool call's effect happen once.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import assistant.store.columns

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_KEY = sqlmodel.sql.sqltypes.AutoString(length=255)


def upgrade() -> None:
    op.create_table(
        "approval",
        sa.Column("arguments", sa.JSON(), nullable=False),
        sa.Column("requested_at", assistant.store.columns.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", assistant.store.columns.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", assistant.store.columns.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("call_key", _KEY, nullable=False),
        sa.Column("tool", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("requested_by", _KEY, nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("decided_by", _KEY, nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(["chat_id"], ["chat.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_approval_status_expires", "approval", ["status", "expires_at"], unique=False)
    op.create_index("ux_approval_call_key", "approval", ["call_key"], unique=True)
    op.create_index(op.f("ix_approval_code"), "approval", ["code"], unique=False)
    op.create_index(op.f("ix_approval_chat_id"), "approval", ["chat_id"], unique=False)
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("effect_key", _KEY, nullable=True))
        batch_op.add_column(sa.Column("approved_tools", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.create_index("ux_job_effect_key", ["effect_key"], unique=True)
    with op.batch_alter_table("fact", schema=None) as batch_op:
        batch_op.add_column(sa.Column("effect_key", _KEY, nullable=True))
        batch_op.create_index("ux_fact_effect_key", ["effect_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("fact", schema=None) as batch_op:
        batch_op.drop_index("ux_fact_effect_key")
        batch_op.drop_column("effect_key")
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_index("ux_job_effect_key")
        batch_op.drop_column("approved_tools")
        batch_op.drop_column("effect_key")
    op.drop_index(op.f("ix_approval_chat_id"), table_name="approval")
    op.drop_index(op.f("ix_approval_code"), table_name="approval")
    op.drop_index("ux_approval_call_key", table_name="approval")
    op.drop_index("ix_approval_status_expires", table_name="approval")
    op.drop_table("approval")
