"""One SQLAlchemy engine per database URL per process, migrated to the newest schema."""

import functools
import threading

import sqlalchemy as sa
from sqlalchemy import event

from orbit_dagster.store import migrate

_lock = threading.Lock()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # SQLite ignores foreign keys (and so ON DELETE CASCADE) unless asked on every connection.
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets the UI and the CLI read while a run writes; busy_timeout makes concurrent
    # writers wait for each other instead of failing with "database is locked".
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@functools.cache
def _engine(url: str) -> sa.Engine:
    engine = sa.create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    migrate.upgrade(engine)
    return engine


def get_engine(url: str) -> sa.Engine:
    """The shared, migrated engine for `url` (thread-safe: migrations run once)."""
    with _lock:
        return _engine(url)
