"""A 50,000-point refresh with its state kept in the store against pickles on disk.

Run: `.venv/bin/python -m bench.step_outputs [--runs 3]`. The same code location runs soft
refreshes of one `file` metric of 50,000 rows on a persistent SQLite instance, as `orbit
refresh` does, with the refresh chain's state going through `StepOutputsIOManager` (the store)
or, as the baseline, Dagster's `FilesystemIOManager` (a pickle per op under DAGSTER_HOME, as
before). They run in turn, A B A B …, after one warm-up each; printed: each refresh's time and
DAGSTER_HOME's growth (in all, and outside Dagster's run and event-log databases), and the
median time ratio store / disk.
"""

import datetime as dt
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import click
import dagster as dg

POINTS = 50_000


def tree_size(home: Path, skip: str | None = None) -> int:
    return sum(
        path.stat().st_size
        for path in home.rglob("*")
        if path.is_file() and (skip is None or path.relative_to(home).parts[0] != skip)
    )


def with_io_manager(definitions: dg.Definitions, key: str, io_manager) -> dg.Definitions:
    """The same code location with another IO manager under `key`."""
    return dg.Definitions(
        assets=definitions.assets,
        asset_checks=definitions.asset_checks,
        jobs=definitions.jobs,
        schedules=definitions.schedules,
        sensors=definitions.sensors,
        resources={**(definitions.resources or {}), key: io_manager},
        executor=definitions.executor,
        loggers=definitions.loggers,
    )


@click.command()
@click.option("--runs", default=3, show_default=True, help="Timed pairs (after one warm-up).")
def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        home = root / "dagster_home"
        home.mkdir()
        os.environ.update(
            DAGSTER_HOME=str(home),
            ORBIT_DATABASE_URL=f"sqlite:///{root / 'orbit.sqlite3'}",
            ORBIT_DATA_DIR=str(root / "data"),
            ORBIT_FILE_ROOTS=str(root),
        )
        start = dt.datetime(2020, 1, 1)
        rows = [
            {"date": (start + dt.timedelta(hours=i)).isoformat() + "Z", "value": i % 97}
            for i in range(POINTS)
        ]
        (root / "big.json").write_text(json.dumps({"data": rows}))

        # Imported once the environment names this run's store and instance.
        from orbit_dagster.dagster_api import run_refresh
        from orbit_dagster.definitions import defs
        from orbit_dagster.defs.metrics.step_outputs import REFRESH_IO_MANAGER
        from orbit_dagster.store import Store

        Store(os.environ["ORBIT_DATABASE_URL"]).add_metric(
            "big", name="Big", template="file", config={"path": str(root / "big.json")}
        )
        store_defs = defs()
        variants = {
            "store": store_defs,
            "disk": with_io_manager(store_defs, REFRESH_IO_MANAGER, dg.FilesystemIOManager()),
        }
        times: dict[str, list[float]] = {name: [] for name in variants}
        with dg.DagsterInstance.get() as instance:
            assert run_refresh(store_defs, instance, "big", "create").success
            for turn in range(runs + 1):
                for name, definitions in variants.items():
                    before, before_rest = tree_size(home), tree_size(home, skip="history")
                    started = time.perf_counter()
                    outcome = run_refresh(definitions, instance, "big", "soft-refresh")
                    elapsed = time.perf_counter() - started
                    assert outcome.success, outcome.error
                    grew, grew_rest = (
                        tree_size(home) - before,
                        tree_size(home, "history") - before_rest,
                    )
                    label = "warm-up" if turn == 0 else f"run {turn}"
                    print(
                        f"{label:8} {name:5} {elapsed:6.2f} s  DAGSTER_HOME +{grew:>10,} bytes "
                        f"(+{grew_rest:,} outside history/)"
                    )
                    if turn:
                        times[name].append(elapsed)
        ratio = statistics.median(s / d for s, d in zip(times["store"], times["disk"], strict=True))
        print(f"median time ratio store / disk: {ratio:.2f}")


if __name__ == "__main__":
    main()
