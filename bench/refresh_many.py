"""A soft refresh of many metrics through Dagster's batched path vs a bare-Python loop.

Run: `.venv/bin/python -m bench.refresh_many [--metrics 1000] [--batch-size 100]
[--postgres URL]`. Each metric is an http-json metric on a local server (127.0.0.1) serving
a realistic 30-day series; its transformers are generated first (not timed). Then the same
soft refresh runs twice, both with the batch op's warm sandbox pool: as
`refresh_metrics_batch_job` runs on a persistent SQLite Dagster instance (in this process: the
run start-up a daemon would add is paid once per batch), and as a loop calling
`refresh.run.run_all_steps` with no Dagster at all. The two alternate batch by batch (bare
batch 1, Dagster batch 1, bare batch 2, …), so that a machine whose load changes mid-run
slows both alike; each arm's CPU time (this process and its sandbox workers) is printed
beside its wall time.
"""

import json
import os
import resource
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import dagster as dg

from orbit_dagster.dagster_api import console_logs
from orbit_dagster.defs.metrics.ops import BATCH_SANDBOX_WORKERS
from orbit_dagster.refresh.jobs import BATCH_JOB, METRIC_PARTITIONS, batch_run_config
from orbit_dagster.refresh.run import run_all_steps
from orbit_dagster.refresh.transformer_tools import TransformerTools
from orbit_dagster.sources import sample_path
from orbit_dagster.store import Store
from orbit_dagster.transformers.pool import SandboxPool
from orbit_dagster_tests.servers import json_server


def no_other_run(_run_id: str) -> bool:
    return False


class Clock:
    """Wall and CPU seconds (this process and its reaped children) summed over timed spans."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    @staticmethod
    def _cpu() -> float:
        return sum(
            usage.ru_utime + usage.ru_stime
            for usage in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
        )

    @contextmanager
    def span(self) -> Iterator[None]:
        wall, cpu = time.perf_counter(), self._cpu()
        yield
        self.wall += time.perf_counter() - wall
        self.cpu += self._cpu() - cpu


def bare_loop(store: Store, metric_ids: list[str], mode: str) -> None:
    """The same plain steps with the same warm sandbox pool the batch op uses, no Dagster."""
    run_id = f"bare-{uuid.uuid4()}"
    with SandboxPool(size=BATCH_SANDBOX_WORKERS) as pool:
        tools = TransformerTools(pool=pool)
        for metric_id in metric_ids:
            run_all_steps(store, metric_id, run_id, "bare-loop", mode, no_other_run, tools)  # type: ignore[arg-type]


def alternate(
    store: Store, metric_ids: list[str], batch_size: int, home: Path
) -> tuple[Clock, Clock]:
    """Each batch soft-refreshed by the bare loop, then as one Dagster batch run."""
    from orbit_dagster.definitions import defs

    bare, dagster = Clock(), Clock()
    os.environ["DAGSTER_HOME"] = str(home)
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions(METRIC_PARTITIONS, metric_ids)
        job = defs().resolve_job_def(BATCH_JOB)
        for start in range(0, len(metric_ids), batch_size):
            batch = metric_ids[start : start + batch_size]
            with bare.span():
                bare_loop(store, batch, "soft-refresh")
            with dagster.span():
                result = job.execute_in_process(
                    instance=instance,
                    run_config={**batch_run_config(batch, "soft-refresh"), **console_logs()},
                )
            assert result.success
        materialized = instance.get_materialized_partitions(dg.AssetKey("metric_points"))
        assert materialized == set(metric_ids)
    return bare, dagster


@click.command()
@click.option("--metrics", "count", default=1000, show_default=True)
@click.option("--batch-size", default=100, show_default=True)
@click.option("--postgres", default=None, help="Orbit store URL on Postgres (default SQLite).")
def main(count: int, batch_size: int, postgres: str | None) -> None:
    payload = json.loads(sample_path("timeseries").read_text())
    with tempfile.TemporaryDirectory() as tmp, json_server() as server:
        store_url = postgres or f"sqlite:///{Path(tmp) / 'orbit.sqlite3'}"
        os.environ["ORBIT_DATABASE_URL"] = store_url
        store = Store(store_url)
        metric_ids = [f"bench-{i:04d}" for i in range(count)]
        for metric_id in metric_ids:
            server.routes[f"/series/{metric_id}"] = (200, payload)
            store.add_metric(
                metric_id,
                name=metric_id,
                template="http-json",
                config={"url": f"{server.base_url}/series/{metric_id}"},
            )
        bare_loop(store, metric_ids, "create")  # generate every transformer (not timed)
        points = sum(store.count_points(m) for m in metric_ids)

        home = Path(tmp) / "dagster_home"
        home.mkdir()
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        bare, dagster = alternate(store, metric_ids, batch_size, home)

    engine = "postgres" if postgres else "sqlite"
    print(f"store: {engine}; metrics: {count}; batch size: {batch_size}; points: {points}")
    for label, clock in (("bare loop", bare), ("dagster batches", dagster)):
        print(
            f"{label + ':':<16}{clock.wall:7.2f} s  ({points / clock.wall:,.0f} points/s), "
            f"{clock.cpu:6.2f} s CPU"
        )
    print(
        f"ratio dagster / bare: {dagster.wall / bare.wall:.2f}x wall, "
        f"{dagster.cpu / bare.cpu:.2f}x CPU (target <= 1.5x)"
    )


if __name__ == "__main__":
    main()
