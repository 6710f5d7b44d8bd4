"""A fresh Postgres database on the local server, dropped when done: for a test session, one
test's Dagster storage, or a benchmark. `ORBIT_TEST_POSTGRES` names the server (an URL of
its maintenance database); the default is the local server's `postgres` database."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

POSTGRES_SERVER = os.environ.get(
    "ORBIT_TEST_POSTGRES", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def scratch_database(prefix: str, server_url: str = POSTGRES_SERVER) -> Iterator[sa.URL]:
    """A new database named `prefix_<random>` on the server of `server_url`, its URL
    yielded; dropped (connections closed by force) on the way out. OperationalError when the
    server cannot be reached."""
    server = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        with server.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield sa.make_url(server_url).set(database=name)
        finally:
            with server.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        server.dispose()


def url_text(url: sa.URL, *, driver: str | None = None) -> str:
    """The URL as text with its password (what a config file or a variable holds); `driver`
    replaces the driver name (e.g. plain `postgresql`, the form Dagster's config takes)."""
    return (url.set(drivername=driver) if driver else url).render_as_string(hide_password=False)
