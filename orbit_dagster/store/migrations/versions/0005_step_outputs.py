"""The step_outputs table: what a run's steps hand each other, kept for re-execution.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "step_outputs",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("step_key", sa.String(length=255), nullable=False),
        sa.Column("output_name", sa.String(length=255), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "step_key", "output_name", name=op.f("pk_step_outputs")),
    )
    op.create_index(op.f("ix_step_outputs_created_at"), "step_outputs", ["created_at"])


def downgrade() -> None:
    op.drop_table("step_outputs")
