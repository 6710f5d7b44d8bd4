"""One SQLAlchemy engine per database URL per process, migrated to the newest schema."""

import functools
import threading

import sqlalchemy as sa
from sqlalchemy import event, exc

from orbit_dagster.store import migrate
from orbit_dagster.store.records import StoreError, StoreUnavailableError

# `postgresql://` alone makes SQLAlchemy pick psycopg 3, which is not installed: Dagster's
# Postgres storage (dagster-postgres) brings psycopg2, so the store uses the same driver.
POSTGRES_DRIVER = "postgresql+psycopg2"

_lock = threading.Lock()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # SQLite ignores foreign keys (and so ON DELETE CASCADE) unless asked on every connection.
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets the UI and the CLI read while a run writes; busy_timeout makes concurrent
    # writers wait for each other instead of failing with "database is locked".
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # In WAL mode NORMAL syncs at checkpoints, not at every commit: a killed process loses
    # nothing it committed (SQLite's documented guarantee; the SIGKILL tests hold it), only an
    # OS crash or power cut can roll back the last commits, never corrupt the file. FULL made
    # each of a refresh's ~30 small commits an fsync: 40 % of a soft refresh's time here.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _unavailable(context: sa.engine.ExceptionContext) -> None:
    """A refused or lost connection, as one line naming the server (never the password),
    instead of a driver error several lines long with the SQL statement in it."""
    connecting = context.connection is None  # the error came while opening a connection
    if context.is_pre_ping or not (connecting or context.is_disconnect):
        return  # pre-ping failures are retried by the pool; other errors keep their own type
    engine = context.engine
    shown = engine.url.render_as_string(hide_password=True) if engine else "its database"
    reason = str(context.original_exception).strip().splitlines()[0]
    raise StoreUnavailableError(f"cannot connect to the Orbit store at {shown}: {reason}")


def normalize_url(url: str) -> sa.URL:
    """`url` parsed, with the installed driver for `postgresql://` and `postgres://`."""
    try:
        parsed = sa.make_url(url)
    except exc.ArgumentError:
        raise StoreError(
            "ORBIT_DATABASE_URL is not a database URL (expected e.g. "
            "postgresql://user@host:5432/orbit or sqlite:///path/orbit.sqlite3)"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        return parsed.set(drivername=POSTGRES_DRIVER)
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(
            f"ORBIT_DATABASE_URL names a {parsed.get_backend_name()!r} database: the Orbit store "
            "is Postgres (postgresql://user@host:5432/orbit) or SQLite (sqlite:///path/orbit.sqlite3)"
        )
    return parsed


@functools.cache
def _engine(url: str) -> sa.Engine:
    parsed = normalize_url(url)
    engine = sa.create_engine(parsed, pool_pre_ping=True)
    event.listen(engine, "handle_error", _unavailable)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        migrate.upgrade(engine)
    except StoreError:
        engine.dispose()
        raise
    return engine


def get_engine(url: str) -> sa.Engine:
    """The shared, migrated engine for `url` (thread-safe: migrations run once)."""
    with _lock:
        return _engine(url)
