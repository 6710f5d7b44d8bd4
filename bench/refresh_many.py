"""A soft refresh of many metrics four ways: the floor (with and without the chart), a
bare-Python loop, Dagster batch runs in this process, and the daemon path users get.

Run: `.venv/bin/python -m bench.refresh_many [--metrics 1000] [--batch-size 100]
[--daemon-batch-size N ...] [--postgres URL] [--dagster-postgres URL] [--arms all|daemon]`.
Each metric is an http-json metric on a local server (127.0.0.1) serving a realistic 30-day
series; its transformers are generated first (not timed). Then the same soft refresh runs:

- floor: per metric, one GET on a shared httpx client, the stored ingestion transformer in a
  warm sandbox worker, one bulk `save_points`; no step log, lock, chart or Dagster. Each
  metric's URL, config and code are read before the clock starts. The least any refresh does.
  Beside it, the floor with the chart: the same plus the stored chart transformer over the
  new points and one `save_chart`: the rest of the work a refresh does, still no bookkeeping
  (so "bare / floor with chart" is what the step log, lock and checks cost).
- bare loop: `refresh.run.run_all_steps` per metric (all nine steps, their step log, status
  and lock, the chart) with the batch op's warm sandbox pool, no Dagster.
- dagster batches: `refresh_metrics_batch_job` runs through `execute_in_process` on a
  persistent instance (the run start-up a daemon adds is paid once per batch, in this process).
- daemon: a real `dagster-daemon run -w workspace.yaml` on its own DAGSTER_HOME with the
  project's `dagster.yaml` (queued run coordinator and its limits, default run launcher). The
  runs are requested by the product's own `default_refresh_schedule`, its cron set for one
  minute ahead (`ORBIT_REFRESH_CRON`) and its batch size to `--batch-size`
  (`ORBIT_BATCH_SIZE`): that is how users' refreshes reach Dagster, so the schedule tick,
  run creation against the code server, queueing, dequeueing, one process per run and the
  runs' own work are all in it. Timed from the first run's creation until every metric's
  points carry one of those runs' ids (polling the Orbit store); when the runs have all
  finished is printed too. CPU is the daemon's process tree (daemon, code server, run workers,
  their sandbox workers; sensors' ticks in that window included); the run workers' peak
  resident memory is sampled with psutil.

The in-process arms alternate batch by batch (floor batch 1, floor with chart batch 1, bare
batch 1, Dagster batch 1, floor batch 2, …), so that a machine whose load changes mid-run
slows all alike; the daemon
arm comes after them, once per `--daemon-batch-size` (default `--batch-size`), each on a fresh
instance. `--dagster-postgres URL` puts every instance on a fresh Postgres database of that
server (dropped afterwards); SQLite files otherwise. `--arms daemon` runs only the daemon arm:
to see that a run's memory does not grow with its batch, run `--metrics 1000 --arms daemon
--daemon-batch-size 100 --daemon-batch-size 1000`. The local series server runs in this
process, so its CPU counts for the in-process arms, not the daemon's.
"""

import datetime as dt
import json
import math
import os
import resource
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import dagster as dg
import httpx
import sqlalchemy as sa

from bench.daemon import ProcessTree, running_daemon, wait_until
from bench.dagster_storage import dagster_home, storage_name
from orbit_dagster.dagster_api import console_logs
from orbit_dagster.defs.metrics.ops import BATCH_SANDBOX_WORKERS
from orbit_dagster.refresh.jobs import BATCH_JOB, METRIC_PARTITIONS, batch_run_config
from orbit_dagster.refresh.run import run_all_steps
from orbit_dagster.refresh.steps import config_for_run
from orbit_dagster.refresh.transformer_tools import TransformerTools
from orbit_dagster.sources import sample_path
from orbit_dagster.store import Point, Store
from orbit_dagster.store import schema as t
from orbit_dagster.transformers import run_ingestion, run_transformer
from orbit_dagster.transformers.pool import SandboxPool
from orbit_dagster_tests.servers import json_server

# The daemon must have loaded the code location (and with it the schedule) before its minute.
DAEMON_READY_SECONDS = 45
DAEMON_DEADLINE_SECONDS = 1800
MB = 1024 * 1024


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


@dataclass(frozen=True)
class FloorMetric:
    """What the floor arm reads before the clock starts: where to fetch, what to run."""

    metric_id: str
    url: str
    config: dict[str, Any]
    code: str
    chart_code: str


def floor_metrics(store: Store, metric_ids: list[str]) -> list[FloorMetric]:
    metrics = []
    for metric_id in metric_ids:
        metric = store.get_metric(metric_id)
        ingestion = store.get_transformer("ingestion", metric_id)
        chart = store.get_transformer("chart", metric_id)
        assert ingestion is not None and chart is not None
        config = config_for_run(metric["template"], metric["config"])
        metrics.append(
            FloorMetric(metric_id, metric["config"]["url"], config, ingestion.code, chart.code)
        )
    return metrics


@contextmanager
def lock_held(store: Store, metric_ids: list[str], run_id: str) -> Iterator[None]:
    """The metrics' refresh locks given to `run_id` in one statement, and freed after.

    `save_points` refuses a run that does not hold the metric's lock; the floor takes no
    lock of its own (that is bookkeeping), so the locks are set around its clock, not in it.
    """
    c = t.metrics.c
    with store.engine.begin() as conn:
        conn.execute(sa.update(t.metrics).where(c.id.in_(metric_ids)).values(refresh_run_id=run_id))
    try:
        yield
    finally:
        with store.engine.begin() as conn:
            conn.execute(
                sa.update(t.metrics).where(c.id.in_(metric_ids)).values(refresh_run_id=None)
            )


def floor(
    store: Store, metrics: list[FloorMetric], client: httpx.Client, run_id: str, chart: bool
) -> int:
    """Fetch, warm sandbox execution, one bulk save per metric (and with `chart`, the chart
    transformer over the new points and the chart's save): the points saved."""
    saved = 0
    with SandboxPool(size=BATCH_SANDBOX_WORKERS) as pool:
        for metric in metrics:
            payload = client.get(metric.url).raise_for_status().json()
            result = run_ingestion(metric.code, payload, metric.config, pool=pool)
            points = [Point.from_output(p) for p in result.points]
            saved += store.save_points(
                metric.metric_id, run_id, points, replace=False, transformer=None
            )
            if chart:
                spec = run_transformer(
                    metric.chart_code, [p.to_json() for p in points], metric.config,
                    kind="chart", pool=pool,
                )  # fmt: skip
                store.save_chart(metric.metric_id, run_id, spec, transformer=None)
    return saved


def bare_loop(store: Store, metric_ids: list[str], mode: str) -> None:
    """The same plain steps with the same warm sandbox pool the batch op uses, no Dagster."""
    run_id = f"bare-{uuid.uuid4()}"
    with SandboxPool(size=BATCH_SANDBOX_WORKERS) as pool:
        tools = TransformerTools(pool=pool)
        for metric_id in metric_ids:
            run_all_steps(store, metric_id, run_id, "bare-loop", mode, no_other_run, tools)  # type: ignore[arg-type]


def alternate(
    store: Store, metric_ids: list[str], batch_size: int, points: int
) -> tuple[Clock, Clock, Clock, Clock]:
    """Each batch soft-refreshed by the floor, the floor with the chart, the bare loop, then
    one Dagster batch run."""
    from orbit_dagster.definitions import defs

    floor_clock, chart_clock, bare, dagster = Clock(), Clock(), Clock(), Clock()
    floor_saved = 0
    with dg.DagsterInstance.get() as instance, httpx.Client() as client:
        job = defs().resolve_job_def(BATCH_JOB)
        for start in range(0, len(metric_ids), batch_size):
            batch = metric_ids[start : start + batch_size]
            prepared = floor_metrics(store, batch)
            for clock, chart in ((floor_clock, False), (chart_clock, True)):
                run_id = f"floor-{uuid.uuid4()}"
                with lock_held(store, batch, run_id), clock.span():
                    saved = floor(store, prepared, client, run_id, chart)
                floor_saved += saved if not chart else 0
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
    assert floor_saved == points, (floor_saved, points)  # the floor saved what the others did
    return floor_clock, chart_clock, bare, dagster


@dataclass
class DaemonResult:
    runs: int
    lag: float  # from the scheduled time to the first run's creation
    points_saved: float  # from the first run's creation until every point is saved by the runs
    runs_finished: float  # from the first run's creation until every run has finished
    cpu: float  # the daemon's process tree, from the scheduled time until the runs finished
    peak_rss: int  # the largest run worker alone
    peak_rss_with_sandbox: int  # the largest run worker with its sandbox workers
    other_runs: int  # runs of other jobs in the window: their workers count in the peaks


def refresh_schedule_name() -> str:
    """The schedule that soft-refreshes metrics in batch runs (the one with BATCH_JOB)."""
    from orbit_dagster.definitions import defs

    (name,) = [s.name for s in defs().schedules if s.job_name == BATCH_JOB]  # type: ignore[union-attr]
    return name


def schedule_minute() -> dt.datetime:
    """The first whole minute that leaves the daemon DAEMON_READY_SECONDS to start."""
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=DAEMON_READY_SECONDS)
    return soon.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)


def saved_by(store: Store, run_ids: list[str]) -> int:
    """How many points were last saved by one of `run_ids`."""
    c = t.metric_data_points.c
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).where(c.run_id.in_(run_ids))).scalar_one()


def daemon_arm(
    store: Store, store_url: str, count: int, batch_size: int, points: int, home: Path
) -> DaemonResult:
    """The scheduled soft refresh of every metric, run by a real daemon on `home`."""
    at = schedule_minute()
    env = {
        **{k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"},  # built-in, as above
        "DAGSTER_HOME": str(home),
        "ORBIT_DATABASE_URL": store_url,
        "ORBIT_DATA_DIR": str(home / "data"),
        "ORBIT_BATCH_SIZE": str(batch_size),
        "ORBIT_REFRESH_CRON": f"{at.minute} {at.hour} * * *",  # fires once, at `at`
    }
    schedule = refresh_schedule_name()
    log = home / "daemon.log"
    with (
        dg.DagsterInstance.get() as instance,
        running_daemon(env, log) as daemon,
        ProcessTree(daemon.pid) as tree,
    ):
        # The schedule's state is stored by the scheduler's first pass over the code location.
        wait_until(
            at.timestamp() - 1,
            lambda: any(s.instigator_name == schedule for s in instance.all_instigator_state()),
            daemon,
            log,
        )
        time.sleep(max(0.0, at.timestamp() - time.time()))
        cpu_start = tree.cpu_seconds()
        deadline = time.time() + DAEMON_DEADLINE_SECONDS
        runs_filter = dg.RunsFilter(job_name=BATCH_JOB, created_after=at)
        expected = math.ceil(count / batch_size)

        def all_points_saved() -> bool:
            records = instance.get_run_records(runs_filter)
            run_ids = [r.dagster_run.run_id for r in records]
            return len(records) == expected and saved_by(store, run_ids) == points

        wait_until(deadline, all_points_saved, daemon, log)
        points_at = time.time()
        wait_until(
            deadline,
            lambda: all(r.dagster_run.is_finished for r in instance.get_run_records(runs_filter)),
            daemon,
            log,
        )
        runs_at = time.time()
        cpu = tree.cpu_seconds() - cpu_start
        records = instance.get_run_records(runs_filter)
        others = len(instance.get_run_records(dg.RunsFilter(created_after=at))) - len(records)
    failed = [r.dagster_run.run_id for r in records if not r.dagster_run.is_success]
    assert not failed, f"runs failed: {failed}; see {log}"
    first = min(r.create_timestamp.timestamp() for r in records)
    peaks = tree.peaks.values()
    return DaemonResult(
        runs=len(records),
        lag=first - at.timestamp(),
        points_saved=points_at - first,
        runs_finished=runs_at - first,
        cpu=cpu,
        peak_rss=max((p.alone for p in peaks), default=0),
        peak_rss_with_sandbox=max((p.with_children for p in peaks), default=0),
        other_runs=others,
    )


@contextmanager
def instance_home(
    folder: Path, postgres_server: str | None, metric_ids: list[str]
) -> Iterator[Path]:
    """A fresh DAGSTER_HOME (this process's too) where every metric is already a partition, as
    in a running deployment: the catalog sensor then has nothing new to create."""
    with dagster_home(folder, postgres_server) as home:
        os.environ["DAGSTER_HOME"] = str(home)
        with dg.DagsterInstance.get() as instance:
            instance.add_dynamic_partitions(METRIC_PARTITIONS, metric_ids)
        yield home


def line(label: str, wall: float, cpu: float | None, points: int, count: int) -> str:
    cpu_text = f", {cpu:6.2f} s CPU" if cpu is not None else ""
    return (
        f"{label + ':':<17}{wall:7.2f} s  ({points / wall:,.0f} points/s, "
        f"{wall / count * 1000:.1f} ms/metric){cpu_text}"
    )


def ratio(label: str, top: float, bottom: float, target: str) -> str:
    return f"ratio {label}: {top / bottom:.2f}x wall ({target})"


def print_daemon(result: DaemonResult, batch_size: int, points: int, count: int) -> None:
    print(line(f"daemon ({batch_size}/run)", result.points_saved, result.cpu, points, count))
    print(
        f"  {result.runs} runs; the first created {result.lag:.1f} s after the scheduled time; "
        f"all finished at +{result.runs_finished:.2f} s; CPU: the daemon's process tree"
    )
    print(
        f"  run worker peak RSS: {result.peak_rss / MB:.0f} MB alone, "
        f"{result.peak_rss_with_sandbox / MB:.0f} MB with its sandbox workers, at {batch_size} "
        "metrics per run (target < 500 MB and not growing with the batch size)"
    )
    if result.other_runs:
        print(f"  note: {result.other_runs} run(s) of other jobs ran meanwhile (in the peaks)")


@click.command()
@click.option("--metrics", "count", default=1000, show_default=True)
@click.option("--batch-size", default=100, show_default=True)
@click.option(
    "--daemon-batch-size",
    "daemon_batch_sizes",
    type=int,
    multiple=True,
    help="Batch sizes of the daemon arm, one daemon run each (default: --batch-size); e.g. "
    "100 and 1000 to compare a run's memory.",
)
@click.option("--postgres", default=None, help="Orbit store URL on Postgres (default SQLite).")
@click.option(
    "--dagster-postgres",
    default=None,
    help="A Postgres server URL: each Dagster instance's storage goes on a fresh database "
    "there, dropped afterwards (default SQLite under a temporary DAGSTER_HOME).",
)
@click.option(
    "--arms",
    type=click.Choice(["all", "daemon"]),
    default="all",
    show_default=True,
    help="daemon: only the daemon arm (say, for its memory at several batch sizes).",
)
def main(
    count: int,
    batch_size: int,
    daemon_batch_sizes: tuple[int, ...],
    postgres: str | None,
    dagster_postgres: str | None,
    arms: str,
) -> None:
    payload = json.loads(sample_path("timeseries").read_text())
    daemons: list[tuple[int, DaemonResult]] = []
    clocks = None
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
        if arms == "all":
            with instance_home(Path(tmp) / "in_process", dagster_postgres, metric_ids):
                clocks = alternate(store, metric_ids, batch_size, points)
        # A fresh instance per daemon run: each starts as the first did, with no schedule state.
        for size in daemon_batch_sizes or (batch_size,):
            folder = Path(tmp) / f"daemon_{size}"
            with instance_home(folder, dagster_postgres, metric_ids) as home:
                daemons.append((size, daemon_arm(store, store_url, count, size, points, home)))

    print(
        f"store: {'postgres' if postgres else 'sqlite'}; dagster storage: "
        f"{storage_name(dagster_postgres)}; metrics: {count}; batch size: {batch_size}; "
        f"points: {points}"
    )
    if clocks is not None:
        labels = ("floor", "floor with chart", "bare loop", "dagster batches")
        for label, clock in zip(labels, clocks, strict=True):
            print(line(label, clock.wall, clock.cpu, points, count))
    for size, result in daemons:
        print_daemon(result, size, points, count)
    if clocks is not None:
        floor_clock, chart_clock, bare, dagster = clocks
        print(ratio("bare / floor", bare.wall, floor_clock.wall, "target <= 2x"))
        print(ratio("bare / floor with chart", bare.wall, chart_clock.wall, "the bookkeeping"))
        print(ratio("dagster batches / bare", dagster.wall, bare.wall, "target <= 1.5x"))
        for size, result in daemons:
            label = f"daemon ({size}/run) / bare"
            print(ratio(label, result.points_saved, bare.wall, "target <= 1.5x"))


if __name__ == "__main__":
    main()
