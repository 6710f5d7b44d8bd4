"""Create or upgrade the Orbit store's schema to the newest migration (Alembic, in-package).

Every process that opens the store calls `upgrade`; on a database already at the newest
revision it answers from one query, without importing Alembic (~0.2 s of every `orbit`
command and run worker start otherwise). The newest revision is read from the migration
files' names (`NNNN_what.py`, one line of history); `test_migrations` checks it is Alembic's
own head.
"""

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The migrations' version table (named in migrations/env.py): Orbit's own, so a database
# shared with another Alembic project keeps both histories apart.
VERSION_TABLE = "orbit_alembic_version"


def alembic_config(connection: sa.Connection | None = None) -> "Config":
    """An Alembic config pointing at the bundled migrations (no alembic.ini needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def newest_revision() -> str:
    """The head revision, from the migration files' names."""
    return max(path.name.split("_", 1)[0] for path in (MIGRATIONS_DIR / "versions").glob("*_*.py"))


def current_revision(connection: sa.Connection) -> str | None:
    """The database's revision; None before the first migration."""
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return None
    return connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Apply every migration not yet applied; a no-op on an up-to-date database."""
    with engine.connect() as connection:
        if revision == "head" and current_revision(connection) == newest_revision():
            return
        from alembic import command

        command.upgrade(alembic_config(connection), revision)
        connection.commit()
