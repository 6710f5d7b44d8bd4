"""Metrics in a test's store and batch runs of them: shared by the automation and failure tests."""

import json

import pytest

from orbit_dagster.defs.metrics.resources import RefreshSettings
from orbit_dagster.defs.resources import OrbitStore
from orbit_dagster.refresh.jobs import BATCH_JOB, batch_run_config
from orbit_dagster.refresh.modes import Mode
from orbit_dagster.store import Store

SERIES = {"data": [{"date": f"2026-10-0{d}", "value": d} for d in range(1, 5)]}


@pytest.fixture
def store(orbit_env) -> Store:
    return Store(orbit_env)


@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "series.json"
    path.write_text(json.dumps(SERIES))
    return path


def add(store: Store, metric_id: str, path, schedule: str | None = None) -> None:
    store.add_metric(
        metric_id, name=metric_id, template="file", config={"path": str(path)}, schedule=schedule
    )


def resources(store_url: str, **settings) -> dict:
    return {
        "orbit_store": OrbitStore(database_url=store_url),
        "refresh_settings": RefreshSettings(**settings),
    }


def run_batch(definitions, instance, metric_ids, mode: Mode = "create"):
    return definitions.resolve_job_def(BATCH_JOB).execute_in_process(
        instance=instance,
        run_config=batch_run_config(metric_ids, mode),
        raise_on_error=False,
    )
