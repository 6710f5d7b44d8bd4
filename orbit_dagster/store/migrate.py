"""Create or upgrade the Orbit store's schema to the newest migration (Alembic, in-package)."""

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic config pointing at the bundled migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Apply every migration not yet applied; a no-op on an up-to-date database."""
    with engine.connect() as connection:
        command.upgrade(alembic_config(connection), revision)
        connection.commit()
