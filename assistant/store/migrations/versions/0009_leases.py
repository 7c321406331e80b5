"""Replicas on one PostgreSQL database: chat leases, and which replica sends a reply.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 08:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import assistant.store.columns

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lease",
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=96), nullable=False),
        sa.Column("expires_at", assistant.store.columns.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["chat_id"], ["chat.id"]),
        sa.PrimaryKeyConstraint("chat_id"),
    )
    op.create_index(op.f("ix_lease_owner"), "lease", ["owner"], unique=False)
    with op.batch_alter_table("reply", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=96), nullable=True)
        )
        batch_op.add_column(
            sa.Column("claimed_until", assistant.store.columns.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("reply", schema=None) as batch_op:
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claimed_by")
    op.drop_index(op.f("ix_lease_owner"), table_name="lease")
    op.drop_table("lease")
