"""How fast the catalog sensor brings 10,000 new metrics into Dagster.

Run: `.venv/bin/python -m bench.partition_sync [--metrics 10000] [--postgres URL]
[--dagster-postgres URL]`. Times one `metric_catalog_sensor` tick that finds every metric new
(plus applying its partition requests, which the daemon does after the tick), then a tick with
nothing new, against the baseline: adding the same keys straight to a fresh instance. The
instance keeps its storage in SQLite files, or with `--dagster-postgres` (a server URL) on a
fresh Postgres database of that server per instance, dropped afterwards, as production does.
"""

import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import dagster as dg
import sqlalchemy as sa

from bench.dagster_storage import postgres_storage, storage_name
from orbit_dagster.defs.metrics.resources import RefreshSettings
from orbit_dagster.defs.metrics.sensors import metric_catalog_sensor
from orbit_dagster.defs.resources import OrbitStore
from orbit_dagster.store import Store
from orbit_dagster.store import schema as t
from orbit_dagster.store.records import utcnow
from orbit_dagster_tests.scratch_database import scratch_database


def register(store: Store, count: int) -> list[str]:
    """Insert `count` metrics in one statement (the bench measures the sensor, not inserts)."""
    now = utcnow()
    ids = [f"metric-{i:05d}" for i in range(count)]
    rows = [
        {"id": i, "name": i, "template": "file", "config": {"path": "x.json"}, "description": "",
         "created_at": now, "updated_at": now}
        for i in ids
    ]  # fmt: skip
    with store.engine.begin() as conn:
        conn.execute(sa.insert(t.metrics), rows)
    return ids


BASELINE_REPEATS = 3  # the best of three: a fresh instance's first write varies a lot
TICK_TARGET_SECONDS = 2.0  # issue 15: the tick adding 10,000 metrics, on Postgres storage


@contextmanager
def fresh_instance(postgres_server: str | None) -> Iterator[dg.DagsterInstance]:
    """A new instance on SQLite files, or on a new database of `postgres_server`."""
    if postgres_server is None:
        with dg.instance_for_test() as instance:
            yield instance
        return
    with (
        scratch_database("orbit_bench", postgres_server) as url,
        dg.instance_for_test(overrides=postgres_storage(url)) as instance,
    ):
        yield instance


def add_to_fresh_instance(ids: list[str], postgres_server: str | None) -> float:
    with fresh_instance(postgres_server) as fresh:
        started = time.perf_counter()
        fresh.add_dynamic_partitions("metric", ids)
        return time.perf_counter() - started


def tick(instance, definitions, store_url: str, cursor: str | None):
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        definitions=definitions,
        resources={
            "orbit_store": OrbitStore(database_url=store_url),
            "refresh_settings": RefreshSettings(),
        },
    )
    started = time.perf_counter()
    result = metric_catalog_sensor(context)
    assert isinstance(result, dg.SensorResult | dg.SkipReason)
    if isinstance(result, dg.SensorResult):
        for request in result.dynamic_partitions_requests or []:
            instance.add_dynamic_partitions(request.partitions_def_name, request.partition_keys)
    return result, time.perf_counter() - started


@click.command()
@click.option("--metrics", "count", default=10_000, show_default=True)
@click.option("--postgres", default=None, help="Orbit store URL on Postgres (default SQLite).")
@click.option(
    "--dagster-postgres",
    default=None,
    help="A Postgres server URL: the instance's storage goes on a fresh database there "
    "(default SQLite files).",
)
def main(count: int, postgres: str | None, dagster_postgres: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp, fresh_instance(dagster_postgres) as instance:
        store_url = postgres or f"sqlite:///{Path(tmp) / 'orbit.sqlite3'}"
        store = Store(store_url)
        ids = register(store, count)
        from orbit_dagster.definitions import defs

        definitions = defs()
        first, first_s = tick(instance, definitions, store_url, None)
        assert isinstance(first, dg.SensorResult)
        second, second_s = tick(instance, definitions, store_url, first.cursor)
        assert len(instance.get_dynamic_partitions("metric")) == count
        assert isinstance(second, dg.SkipReason)

    baseline_s = min(add_to_fresh_instance(ids, dagster_postgres) for _ in range(BASELINE_REPEATS))

    engine = "postgres" if postgres else "sqlite"
    runs = len(first.run_requests or [])
    print(f"store: {engine}; dagster storage: {storage_name(dagster_postgres)}; metrics: {count}")
    print(f"first tick (all new, {runs} batch create runs requested): {first_s:.3f} s "
          f"= {count / first_s:,.0f} partitions/s (target <= {TICK_TARGET_SECONDS:g} s for "
          "10,000 on Postgres storage)")  # fmt: skip
    print(f"second tick (nothing new): {second_s * 1000:.1f} ms")
    print(f"baseline (add_dynamic_partitions alone): {baseline_s:.3f} s")
    print(f"ratio first tick / baseline: {first_s / baseline_s:.2f}x")


if __name__ == "__main__":
    main()
