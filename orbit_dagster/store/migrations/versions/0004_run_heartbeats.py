"""Processes working on a run record a heartbeat, so a killed run never holds a metric.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_heartbeats",
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("process_started", sa.Float(), nullable=False),
        sa.Column("metric_id", sa.String(128), nullable=True),
        sa.Column("step", sa.String(100), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("beat_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "host", "pid", name="pk_run_heartbeats"),
    )


def downgrade() -> None:
    op.drop_table("run_heartbeats")
