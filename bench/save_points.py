"""`Store.save_points` of a large metric on Postgres against a bare COPY of the same rows.

Run: `.venv/bin/python -m bench.save_points [--points 100000] [--runs 5] [--postgres URL]`.
Without `--postgres`, a fresh database is created on 127.0.0.1:5432 and dropped afterwards.
Each round, after one untimed warm-up, times in turn:
- `new`: `save_points` of the series into a new metric (deleted again, untimed);
- `soft`: `save_points` over the same metric's points with new values (a soft refresh);
- `hard`: `save_points(replace=True)` over them (a hard refresh);
- `copy`: a bare COPY of the same rows, already CSV-encoded, into an empty scratch table with
  the points table's columns and indexes (the fastest write of these rows Postgres offers);
- `copy fk`: the same into a scratch table that also has the points table's foreign key to
  the metric, which Postgres checks row by row: the part of a save no client code can avoid;
- `sqlite new`, `sqlite soft`, `sqlite hard`: the same saves on a SQLite store, for scale.
Printed: each arm's median, and copy / save as a percentage (issue 15's target: ≥ 50 %).
"""

import csv
import datetime as dt
import io
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import sqlalchemy as sa

from orbit_dagster.store import Point, Store
from orbit_dagster.store import schema as t
from orbit_dagster_tests.scratch_database import scratch_database, url_text
from orbit_dagster_tests.store.claimed import add_claimed_metric

RUN = "bench-run"
REGIONS = ["eu", "us", "asia", "africa"]


def series(count: int, offset: float) -> list[Point]:
    """A metric of `count` points: one per minute and region, with values of full precision."""
    start = dt.datetime(2024, 1, 1)
    return [
        Point(
            start + dt.timedelta(minutes=i // len(REGIONS)),
            (i * 7919 % 10007) / 7 + offset,
            {"region": REGIONS[i % len(REGIONS)]},
        )
        for i in range(count)
    ]


@contextmanager
def fresh_database(url: str | None) -> Iterator[str]:
    """`url`, or a new database on the local server, dropped when done."""
    if url is not None:
        yield url
        return
    with scratch_database("orbit_bench") as scratch:
        yield url_text(scratch)


def csv_bytes(metric_id: str, points: list[Point]) -> bytes:
    """The points as the CSV a COPY client sends (see `orbit_dagster/store/pg_copy.py`)."""
    buffer = io.StringIO()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    csv.writer(buffer, lineterminator="\n").writerows(
        (metric_id, p.ts, p.dimensions_key, p.dimensions_key, p.value, RUN, now) for p in points
    )
    return buffer.getvalue().encode()


def bare_copy(engine: sa.Engine, table: str, data: bytes) -> float:
    """Seconds to COPY `data` into the emptied scratch `table` and commit."""
    columns = "metric_id, ts, dimensions_key, dimensions, value, run_id, updated_at"
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {table}")
    connection = engine.raw_connection()
    try:
        started = time.perf_counter()
        cursor = connection.cursor()
        cursor.copy_expert(
            f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, ENCODING 'UTF8', "
            "FORCE_NOT_NULL (dimensions_key))",
            io.BytesIO(data),
            size=1 << 20,
        )
        connection.commit()
        return time.perf_counter() - started
    finally:
        connection.close()


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def save_arms(store: Store, points: list[Point], again: list[Point], turn: int) -> dict:
    """The seconds of a new-metric save, a soft refresh and a hard refresh on `store`."""
    fresh = f"new-{turn}"
    add_claimed_metric(store, fresh, RUN)
    new = timed(lambda: store.save_points(fresh, RUN, points, replace=False, transformer=None))
    store.delete_metric(fresh)
    soft = timed(lambda: store.save_points("big", RUN, again, replace=False, transformer=None))
    hard = timed(lambda: store.save_points("big", RUN, points, replace=True, transformer=None))
    return {"new": new, "soft": soft, "hard": hard}


@click.command()
@click.option("--points", "count", default=100_000, show_default=True)
@click.option("--runs", default=5, show_default=True, help="Timed rounds (after one warm-up).")
@click.option("--postgres", default=None, help="Postgres URL (default: a fresh local database).")
def main(count: int, runs: int, postgres: str | None) -> None:
    points, again = series(count, 0.0), series(count, 0.5)
    data = csv_bytes("big", points)
    times: dict[str, list[float]] = {}
    with fresh_database(postgres) as url, tempfile.TemporaryDirectory() as tmp:
        stores = {"": Store(url), "sqlite ": Store(f"sqlite:///{Path(tmp) / 'orbit.sqlite3'}")}
        for store in stores.values():
            add_claimed_metric(store, "big", RUN)
            store.save_points("big", RUN, points, replace=False, transformer=None)
        engine = stores[""].engine
        points_table = t.metric_data_points
        scratch = {
            "copy": f"CREATE TABLE bench_copy (LIKE {points_table} INCLUDING ALL)",
            "copy fk": f"CREATE TABLE bench_copy_fk (LIKE {points_table} INCLUDING ALL, "
            f"FOREIGN KEY (metric_id) REFERENCES {t.metrics} (id) ON DELETE CASCADE)",
        }
        with engine.begin() as conn:
            for statement in scratch.values():
                conn.exec_driver_sql(statement)
        try:
            for turn in range(runs + 1):
                round_times = {
                    "copy": bare_copy(engine, "bench_copy", data),
                    "copy fk": bare_copy(engine, "bench_copy_fk", data),
                }
                for prefix, store in stores.items():
                    for arm, seconds in save_arms(store, points, again, turn).items():
                        round_times[prefix + arm] = seconds
                label = "warm-up" if turn == 0 else f"run {turn}"
                print(f"{label:8}", "  ".join(f"{k} {v:.3f}s" for k, v in round_times.items()))
                if turn:
                    for arm, seconds in round_times.items():
                        times.setdefault(arm, []).append(seconds)
        finally:
            with engine.begin() as conn:
                conn.exec_driver_sql("DROP TABLE IF EXISTS bench_copy, bench_copy_fk")
            for store in stores.values():
                store.engine.dispose()
    medians = {arm: statistics.median(values) for arm, values in times.items()}
    print(f"\nmedians over {runs} runs, {count:,} points:")
    for arm, seconds in medians.items():
        share = ""
        if not arm.startswith(("copy", "sqlite")):
            share = (
                f"  copy / save = {medians['copy'] / seconds:6.1%}"
                f"  (copy fk / save = {medians['copy fk'] / seconds:6.1%})"
            )
        print(f"  {arm:12} {seconds:7.3f} s  {count / seconds:>9,.0f} points/s{share}")


if __name__ == "__main__":
    main()
