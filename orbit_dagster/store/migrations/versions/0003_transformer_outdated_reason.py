"""Transformers record why they no longer fit their metric (`orbit metrics update`).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("ingestion_transformers", "chart_transformers")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("outdated_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "outdated_reason")
