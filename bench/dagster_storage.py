"""Where a benchmark's Dagster instance keeps its runs, events and schedules.

SQLite files under DAGSTER_HOME (Dagster's default), or a fresh Postgres database made for one
benchmark on a server the caller names (`--dagster-postgres URL`) and dropped afterwards, so
that runs of a benchmark never see each other's history. The project's `deploy/dagster.yaml` is the
instance's configuration either way (queued run coordinator, its concurrency limits, run
monitoring and retries), with dagster-postgres' `storage: postgres:` block added for Postgres,
as `deploy/postgres/dagster.yaml` does.
"""

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from orbit_dagster import settings
from orbit_dagster_tests.scratch_database import scratch_database, url_text


def postgres_storage(url: sa.URL) -> dict[str, Any]:
    """dagster-postgres' storage block for `dagster.yaml` (runs, events and schedules)."""
    # dagster-postgres takes a plain `postgresql://` URL (it picks psycopg2 itself).
    return {"storage": {"postgres": {"postgres_url": url_text(url, driver="postgresql")}}}


@contextmanager
def dagster_home(folder: Path, postgres_server: str | None) -> Iterator[Path]:
    """`folder` made a DAGSTER_HOME with the project's `deploy/dagster.yaml`, on SQLite or on a
    fresh Postgres database of `postgres_server`; yields the folder."""
    folder.mkdir()
    shutil.copy(settings.INSTANCE_YAML, folder / "dagster.yaml")
    if postgres_server is None:
        yield folder
        return
    with scratch_database("orbit_bench", postgres_server) as url:
        with open(folder / "dagster.yaml", "a") as config:
            config.write("\n" + yaml.safe_dump(postgres_storage(url)))
        yield folder


def storage_name(postgres_server: str | None) -> str:
    return "postgres" if postgres_server else "sqlite"
