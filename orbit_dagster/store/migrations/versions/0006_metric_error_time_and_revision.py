"""Metrics record when their last error happened, and what their last save changed in the
points they already had (the overlap check).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("metrics", sa.Column("last_error_at", sa.DateTime(), nullable=True))
    op.add_column(
        "metrics",
        sa.Column("last_revision", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("metrics", "last_revision")
    op.drop_column("metrics", "last_error_at")
