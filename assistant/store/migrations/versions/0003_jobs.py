"""The job table: scheduled reminders and tasks.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-27 05:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import assistant.store.columns

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    instant = assistant.store.columns.UTCDateTime
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("kind", text(length=16), nullable=False),
        sa.Column("text", text(), nullable=False),
        sa.Column("trigger_kind", text(length=8), nullable=False),
        sa.Column("trigger_value", text(length=255), nullable=False),
        sa.Column("timezone", text(length=64), nullable=False),
        sa.Column("anchor_at", instant(timezone=True), nullable=False),
        sa.Column("grace_s", sa.Float(), nullable=False),
        sa.Column("next_run_at", instant(timezone=True), nullable=True),
        sa.Column("last_due_at", instant(timezone=True), nullable=True),
        sa.Column("last_run_at", instant(timezone=True), nullable=True),
        sa.Column("last_outcome", text(length=16), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("retry_at", instant(timezone=True), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("cancelled_at", instant(timezone=True), nullable=True),
        sa.Column("created_by", text(length=255), nullable=False),
        sa.Column("created_at", instant(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["chat_id"], ["chat.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_chat_id"), ["chat_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_job_next_run_at"), ["next_run_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_next_run_at"))
        batch_op.drop_index(batch_op.f("ix_job_chat_id"))
    op.drop_table("job")
