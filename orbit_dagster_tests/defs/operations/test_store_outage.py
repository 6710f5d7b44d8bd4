"""The Orbit store (Postgres) goes away in the middle of a batch refresh and comes back: the
metrics it hit fail with one clear line, nothing is half-written, and the next refresh of the
batch completes them."""

import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa

from orbit_dagster.dagster_api import ensure_metric_partitions
from orbit_dagster.store import Store
from orbit_dagster_tests.conftest import empty_store
from orbit_dagster_tests.defs.metric_batches import run_batch
from orbit_dagster_tests.servers import json_server
from orbit_dagster_tests.tcp_proxy import tcp_proxy

METRICS = [f"m{n}" for n in range(1, 7)]
# The outage starts while the third metric's fetch waits on the API.
FIRST_HIT = 2


def series(version: int) -> dict:
    return {
        "data": [
            {"date": f"2026-10-{day:02d}", "value": day * 10 + version} for day in range(1, 31)
        ]
    }


def ingestion_code(store: Store, metric_id: str) -> str:
    transformer = store.get_transformer("ingestion", metric_id)
    assert transformer is not None
    return transformer.code


def values(store: Store, metric_id: str) -> list[float]:
    return [point.value for point in store.list_points(metric_id)]


def test_a_store_outage_mid_batch_fails_the_metrics_it_hit_and_the_next_batch_completes_them(
    postgres_url, instance, monkeypatch
):
    empty_store(postgres_url)
    real = sa.make_url(postgres_url)
    with tcp_proxy(real.host or "127.0.0.1", real.port or 5432) as proxy, json_server() as api:
        url = real.set(port=proxy.port).render_as_string(hide_password=False)
        monkeypatch.setenv("ORBIT_DATABASE_URL", url)
        from orbit_dagster.definitions import defs

        definitions = defs()
        store = Store(url)
        for metric_id in METRICS:
            api.routes[f"/{metric_id}"] = (200, series(0))
            store.add_metric(
                metric_id, name=metric_id, template="http-json",
                config={"url": f"{api.base_url}/{metric_id}"},
            )  # fmt: skip
        ensure_metric_partitions(instance, METRICS)
        assert run_batch(definitions, instance, METRICS).success
        before = {m: values(store, m) for m in METRICS}
        code = {m: ingestion_code(store, m) for m in METRICS}

        for metric_id in METRICS:
            api.routes[f"/{metric_id}"] = (200, series(1))
        api.requests.clear()
        release = api.hold = threading.Event()

        def outage() -> None:
            # Release the fetches one by one; the third finds the store gone.
            for released in range(len(METRICS)):
                while len(api.requests) <= released:
                    time.sleep(0.01)
                if released == FIRST_HIT:
                    proxy.down()
                release.set()
                release.clear()

        watcher = threading.Thread(target=outage, daemon=True)
        watcher.start()
        result = run_batch(definitions, instance, METRICS, mode="soft-refresh")
        release.set()
        proxy.up()

        assert not result.success
        (failure,) = [e for e in result.all_events if e.is_step_failure]
        reported = failure.step_failure_data.user_failure_data
        assert reported is not None
        # JSON metadata: {metric id: reason}, as the batch op wrote it.
        failed_metrics: Any = reported.metadata["failed_metrics"].value
        failed: dict[str, str] = failed_metrics
        hit = METRICS[FIRST_HIT:]
        assert sorted(failed) == hit
        for metric_id in hit:
            assert failed[metric_id].startswith("cannot connect to the Orbit store at "), failed
            assert "\n" not in failed[metric_id]
        # Nothing half-written: the metrics before the outage are new, those it hit are old.
        for metric_id in METRICS[:FIRST_HIT]:
            assert values(store, metric_id) == [day * 10 + 1 for day in range(1, 31)]
        for metric_id in hit:
            assert values(store, metric_id) == before[metric_id]
            assert ingestion_code(store, metric_id) == code[metric_id]

        api.hold = None
        again = run_batch(definitions, instance, hit, mode="soft-refresh")
        assert again.success
        for metric_id in METRICS:
            assert values(store, metric_id) == [day * 10 + 1 for day in range(1, 31)]
            metric = store.get_metric(metric_id)
            assert metric["refresh_run_id"] is None and metric["last_error"] is None


@pytest.fixture(autouse=True)
def fresh_engines():
    """Engines are cached per URL: the proxy's port is new in every test."""
    from orbit_dagster.store.engine import _engine

    yield
    _engine.cache_clear()
