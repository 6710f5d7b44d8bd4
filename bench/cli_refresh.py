"""`orbit refresh` of a small metric against a trivial `dagster job execute`, whole processes.

Run: `.venv/bin/python -m bench.cli_refresh [--runs 7]`. Both commands start a Python process,
import Dagster and run a job on a persistent SQLite instance, as a user's shell would; the
refresh (a soft refresh of a 3-point `file` metric whose transformers exist) does the real
work on top. They run in turn, A B A B …, after one warm-up each, so a machine that slows
down mid-run slows both; the ratio is taken pair by pair and its median printed (target:
`orbit refresh` ≤ 1.3× the trivial job). The CPU time of each process (user + system) is
printed beside its wall time: on a machine shared with other work it moves far less.
"""

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

from orbit_dagster import settings

BIN = Path(sys.executable).parent


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of `command`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


@click.command()
@click.option("--runs", default=7, show_default=True, help="Timed pairs (after one warm-up).")
def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "dagster_home"
        home.mkdir()
        (home / "dagster.yaml").write_text((settings.PROJECT_ROOT / "dagster.yaml").read_text())
        # Inside the data folder: the file template reads only under its allowed roots.
        data = Path(tmp) / "data"
        data.mkdir()
        series = data / "series.json"
        series.write_text(json.dumps([{"date": f"2026-10-0{d}", "value": d} for d in (1, 2, 3)]))
        env = {**os.environ, "DAGSTER_HOME": str(home), "ORBIT_DATA_DIR": str(data)}
        env.pop("ORBIT_DATABASE_URL", None)
        orbit = [str(BIN / "orbit")]
        subprocess.run(
            [*orbit, "metrics", "add", "--id", "small", "--name", "Small", "--template", "file",
             "--config", f"path={series}"],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        subprocess.run(
            [*orbit, "refresh", "small", "--mode", "create"],
            env=env,
            check=True,
            capture_output=True,
        )
        refresh = [*orbit, "refresh", "small", "--mode", "soft-refresh"]
        trivial = [
            str(BIN / "dagster"), "job", "execute", "-f",
            str(Path(__file__).parent / "trivial_job.py"), "-j", "trivial_job",
        ]  # fmt: skip
        # Warm-up, not counted: disk caches, the first run's writes.
        timed(refresh, env)
        timed(trivial, env)
        pairs = [(timed(refresh, env), timed(trivial, env)) for _ in range(runs)]
    print(f"runs: {runs} pairs, whole processes, SQLite instance; medians (wall / CPU)")
    for label, index in (
        ("orbit refresh (soft, 3 points)", 0),
        ("dagster job execute (trivial)", 1),
    ):
        wall = statistics.median(pair[index][0] for pair in pairs)
        cpu = statistics.median(pair[index][1] for pair in pairs)
        print(f"{label:<31} {wall:6.2f} s / {cpu:5.2f} s CPU")
    for kind, at in (("wall", 0), ("CPU", 1)):
        ratio = statistics.median(a[at] / b[at] for a, b in pairs)
        print(f"ratio orbit / trivial, {kind}: {ratio:.2f}x median of pairs (target <= 1.3x)")


if __name__ == "__main__":
    main()
