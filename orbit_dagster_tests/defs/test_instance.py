"""The shipped instance configs load, and a refresh runs on Dagster's Postgres storage."""

import shutil

import dagster as dg
import yaml

from orbit_dagster import settings
from orbit_dagster.dagster_api import run_refresh
from orbit_dagster.sources import sample_path
from orbit_dagster.store import Store
from orbit_dagster_tests.scratch_database import scratch_database, url_text

ROOT = settings.PROJECT_ROOT


def test_postgres_instance_config_is_the_default_plus_storage():
    default = yaml.safe_load((ROOT / "dagster.yaml").read_text())
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


def test_refresh_on_a_postgres_dagster_instance(postgres_url, tmp_path, monkeypatch):
    with scratch_database("orbit_dagster") as dagster_db:
        home = tmp_path / "dagster_home"
        home.mkdir()
        shutil.copy(ROOT / "deploy/postgres/dagster.yaml", home / "dagster.yaml")
        # The form the README gives: plain postgresql:// (psycopg2 under SQLAlchemy 2.0).
        monkeypatch.setenv("DAGSTER_POSTGRES_URL", url_text(dagster_db, driver="postgresql"))
        monkeypatch.setenv("ORBIT_DATABASE_URL", postgres_url)
        store = Store(postgres_url)
        store.add_metric(
            "pg-series",
            name="Series",
            template="file",
            config={"path": str(sample_path("timeseries"))},
        )
        from orbit_dagster.definitions import defs

        monkeypatch.setenv("DAGSTER_HOME", str(home))
        with dg.DagsterInstance.get() as instance:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            outcome = run_refresh(defs(), instance, "pg-series", "create")
            assert outcome.success, outcome.error
            run = instance.get_run_by_id(outcome.run_id)
            assert run is not None and run.is_success
            assert instance.get_materialized_partitions(dg.AssetKey("metric_points")) == {
                "pg-series"
            }
        assert store.count_points("pg-series") == 30
