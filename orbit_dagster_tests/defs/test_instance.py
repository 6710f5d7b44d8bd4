"""The shipped instance configs load, and a refresh runs on Dagster's Postgres storage."""

import shutil
from collections.abc import Iterator

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml

from orbit_dagster import settings
from orbit_dagster.dagster_api import run_refresh
from orbit_dagster.dagster_api.connections import OVERFLOW
from orbit_dagster.refresh.jobs import BATCH_JOB, batch_run_config
from orbit_dagster.sources import sample_path
from orbit_dagster.store import Store
from orbit_dagster_tests.conftest import empty_store
from orbit_dagster_tests.scratch_database import scratch_database, url_text

ROOT = settings.PROJECT_ROOT


def test_postgres_instance_config_is_the_default_plus_storage():
    default = yaml.safe_load((ROOT / "deploy/dagster.yaml").read_text())
    production = yaml.safe_load((ROOT / "deploy/postgres/dagster.yaml").read_text())
    assert production.pop("storage") == {
        "postgres": {"postgres_url": {"env": "DAGSTER_POSTGRES_URL"}}
    }
    assert production == default
    limits = default["concurrency"]["runs"]["tag_concurrency_limits"]
    assert {
        "key": "dagster/partition",
        "value": {"applyLimitPerUniqueValue": True},
        "limit": 1,
    } in limits


@pytest.fixture
def postgres_instance(
    postgres_url, tmp_path, monkeypatch
) -> Iterator[tuple[dg.DagsterInstance, str]]:
    """The production instance config on a fresh Dagster database, and that database's name;
    the Orbit store on this session's Postgres database, emptied."""
    empty_store(postgres_url)
    with scratch_database("orbit_dagster") as dagster_db:
        home = tmp_path / "dagster_home"
        home.mkdir()
        shutil.copy(ROOT / "deploy/postgres/dagster.yaml", home / "dagster.yaml")
        # The form the README gives: plain postgresql:// (psycopg2 under SQLAlchemy 2.0).
        monkeypatch.setenv("DAGSTER_POSTGRES_URL", url_text(dagster_db, driver="postgresql"))
        monkeypatch.setenv("ORBIT_DATABASE_URL", postgres_url)
        monkeypatch.setenv("DAGSTER_HOME", str(home))
        with dg.DagsterInstance.get() as instance:
            assert dagster_db.database is not None
            yield instance, dagster_db.database


def add_series(store: Store, metric_id: str) -> None:
    store.add_metric(
        metric_id, name="Series", template="file", config={"path": str(sample_path("timeseries"))}
    )


def test_refresh_on_a_postgres_dagster_instance(postgres_instance, postgres_url):
    instance, _database = postgres_instance
    store = Store(postgres_url)
    add_series(store, "pg-series")
    from orbit_dagster.definitions import defs

    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    outcome = run_refresh(defs(), instance, "pg-series", "create")
    assert outcome.success, outcome.error
    run = instance.get_run_by_id(outcome.run_id)
    assert run is not None and run.is_success
    assert instance.get_materialized_partitions(dg.AssetKey("metric_points")) == {"pg-series"}
    assert store.count_points("pg-series") == 30


def open_connections(postgres_url: str, database: str) -> int:
    """Connections to `database` open on the server now (the caller's own is elsewhere)."""
    with Store(postgres_url).engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = :db"), {"db": database}
        ).scalar_one()


def refresh_one_by_one(instance: dg.DagsterInstance, metric_id: str) -> bool:
    """`orbit refresh`'s path: the nine-op graph of one partition, in this process."""
    from orbit_dagster.definitions import defs

    return run_refresh(defs(), instance, metric_id, "create").success


def refresh_in_a_batch(instance: dg.DagsterInstance, metric_id: str) -> bool:
    """The schedule's path: the batch job's one op, in this process."""
    from orbit_dagster.definitions import defs

    job = defs().resolve_job_def(BATCH_JOB)
    return job.execute_in_process(
        instance=instance, run_config=batch_run_config([metric_id], "create")
    ).success


@pytest.mark.parametrize("refresh", [refresh_one_by_one, refresh_in_a_batch])
def test_a_run_worker_keeps_its_dagster_connections_and_opens_no_more_per_run(
    postgres_instance, postgres_url, refresh
):
    instance, database = postgres_instance
    store = Store(postgres_url)
    for metric_id in ("pool-a", "pool-b"):
        add_series(store, metric_id)
    # Dagster's Postgres storages close every connection after use unless pooled.
    assert open_connections(postgres_url, database) == 0
    bound = 3 * (1 + OVERFLOW)  # run, event log and schedule storage, each its pool
    assert refresh(instance, "pool-a")
    kept = open_connections(postgres_url, database)
    assert 1 <= kept <= bound
    # A second run in the same process reuses the pools rather than building new ones.
    assert refresh(instance, "pool-b")
    assert open_connections(postgres_url, database) == kept
