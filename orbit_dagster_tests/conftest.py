"""Shared fixtures: real databases (a SQLite file, and Postgres on 127.0.0.1:5432).

Postgres is required, never skipped: if it is not reachable the tests that need it fail
and say how to start it. Each test session gets its own fresh Postgres database.
"""

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy.exc import OperationalError

from orbit_dagster.store import Store
from orbit_dagster.store import schema as t
from orbit_dagster_tests.scratch_database import POSTGRES_SERVER, scratch_database, url_text

# The `file` template reads only under allowed folders; tests write their files to tmp_path.
# Set here, so that `orbit` subprocesses and the daemon started by tests inherit it.
os.environ.setdefault("ORBIT_FILE_ROOTS", tempfile.gettempdir())


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh Postgres database for this test session, dropped afterwards."""
    with ExitStack() as stack:
        try:
            url = stack.enter_context(scratch_database("orbit_test"))
        except OperationalError as error:
            pytest.fail(
                f"Postgres is required at {POSTGRES_SERVER} and is not reachable ({error.orig}). "
                "Start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
            )
        yield url_text(url)
        from orbit_dagster.store.engine import _engine

        _engine.cache_clear()  # close pooled connections before dropping the database


def create_instance_storage(home: Path) -> None:
    """Create the SQLite files of the Dagster instance in `home` before several processes open
    it: two processes creating them at the same moment can both stamp the schedule storage's
    alembic_version, and every later opening fails on "more than one head present" (a race in
    Dagster's SQLite storage set-up, seen in CI)."""
    with dg.DagsterInstance.from_config(str(home)):
        pass


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path) -> str:
    """The store URL of one test, on each engine: a new SQLite file, or emptied Postgres."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'orbit.sqlite3'}"
    url = request.getfixturevalue("postgres_url")
    empty_store(url)
    return url


def empty_store(url: str) -> None:
    """Every Orbit table of this Postgres store emptied: each test starts from nothing."""
    with Store(url).engine.begin() as conn:
        tables = ", ".join(table.name for table in t.metadata.sorted_tables)
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture
def store(store_url) -> Store:
    return Store(store_url)


@pytest.fixture
def orbit_env(store_url, tmp_path, monkeypatch) -> str:
    """Environment of a code location using this test's store and data folder."""
    monkeypatch.setenv("ORBIT_DATABASE_URL", store_url)
    monkeypatch.setenv("ORBIT_DATA_DIR", str(tmp_path / "data"))
    return store_url


@pytest.fixture
def definitions(orbit_env) -> dg.Definitions:
    """The real code location, loaded the way Dagster loads it, bound to this test's store."""
    from orbit_dagster.definitions import defs

    return defs()


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance


@pytest.fixture
def run_orbit(tmp_path):
    """`orbit ARGS...` as a user runs it: a subprocess on the embedded defaults under tmp_path.

    `extra_env` adds variables; `drop` removes those whose names start with these prefixes.
    """

    def run(
        *args: str, extra_env: dict[str, str] | None = None, drop: tuple[str, ...] = ()
    ) -> subprocess.CompletedProcess:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("ORBIT_DATABASE_URL", "DAGSTER_HOME") and not k.startswith(drop)
        }
        env["ORBIT_DATA_DIR"] = str(tmp_path / "data")
        env.update(extra_env or {})
        return subprocess.run(
            [sys.executable, "-m", "orbit_dagster.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )

    return run


@pytest.fixture
def dagster_on_postgres(tmp_path) -> Iterator[str]:
    """A DAGSTER_HOME whose runs, events and schedules live in a fresh Postgres database."""
    with scratch_database("orbit_dagster") as url:
        home = tmp_path / "dagster_home"
        home.mkdir()
        (home / "dagster.yaml").write_text(
            "telemetry:\n  enabled: false\nstorage:\n  postgres:\n    postgres_url: "
            f"{url_text(url, driver='postgresql')}\n"
        )
        yield str(home)
