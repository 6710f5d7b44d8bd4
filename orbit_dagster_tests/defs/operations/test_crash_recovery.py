"""Crash proof at scale: a refresh of a 50,000-point metric killed with SIGKILL during the
fetch, the transformer's execution and the save, in hard and soft refresh, on Postgres (the
Orbit store and Dagster's storage), each followed by `orbit recover --auto-resume`.

After each: the points equal what a clean run of that mode gives (none lost, none duplicated),
both transformers are there, the metric is unlocked and not "processing", the dead run is
failed with a reason and its re-execution succeeded.
"""

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time

import dagster as dg

from orbit_dagster.dagster_api.interrupted import INTERRUPTED_TAG
from orbit_dagster.store import Store
from orbit_dagster_tests.conftest import empty_store
from orbit_dagster_tests.servers import json_server

POINTS = 50_000
START = dt.datetime(2020, 1, 1)
# (step to kill in, mode); each case refreshes the payload the previous case did not serve.
CASES = [
    ("fetching-api-data", "soft-refresh"),
    ("executing-ingestion-transformer", "soft-refresh"),
    ("saving-timeseries-data", "soft-refresh"),
    ("fetching-api-data", "hard-refresh"),
    ("executing-ingestion-transformer", "hard-refresh"),
    ("saving-timeseries-data", "hard-refresh"),
]


def payload(version: int) -> dict[int, float]:
    """Hourly values; version 1 shifts the window by 100 hours and changes every value, so a
    soft refresh keeps 100 old points that a hard refresh drops."""
    first = 100 * version
    return {hour: float(hour * 3 + version) for hour in range(first, first + POINTS)}


def body(values: dict[int, float]) -> dict:
    return {
        "series": [
            {"timestamp": (START + dt.timedelta(hours=hour)).isoformat() + "Z", "value": value}
            for hour, value in values.items()
        ]
    }


def test_sigkill_at_every_stage_then_recover_leaves_exactly_a_clean_runs_points(
    postgres_url, dagster_on_postgres, tmp_path
):
    empty_store(postgres_url)
    store = Store(postgres_url)
    env = {
        **os.environ,
        "ORBIT_DATABASE_URL": postgres_url,
        "ORBIT_DATA_DIR": str(tmp_path / "data"),
        "DAGSTER_HOME": dagster_on_postgres,
    }

    def orbit(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "orbit_dagster.cli", *args],
            env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip

    def stored() -> dict[int, float]:
        return {
            round((point.ts - START).total_seconds() / 3600): point.value
            for point in store.list_points("big")
        }

    with json_server() as server:
        server.routes["/series"] = (200, body(payload(0)))
        add = ("metrics", "add", "--id", "big", "--name", "Hourly value", "--template")
        assert orbit(*add, "http-json", "--config", f"url={server.base_url}/series").returncode == 0
        created = orbit("refresh", "big", "--mode", "create")
        assert created.returncode == 0, created.stderr
        expected = payload(0)
        assert stored() == expected

        for number, (stage, mode) in enumerate(CASES, start=1):
            case = f"case {number}: killed in {stage} of a {mode}"
            served = payload(number % 2)
            server.routes["/series"] = (200, body(served))
            server.hold = threading.Event() if stage == "fetching-api-data" else None
            server.hold_seconds = 300
            process = subprocess.Popen(
                [sys.executable, "-m", "orbit_dagster.cli", "refresh", "big", "--mode", mode],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and process.poll() is None:
                if store.get_metric("big")["refresh_status"] == stage:
                    break
                time.sleep(0.005)
            assert process.poll() is None, f"{case}: the refresh ended before reaching {stage}"
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            dead = store.get_metric("big")["refresh_run_id"]
            assert dead is not None, case
            if server.hold is not None:
                server.hold.set()

            recovered = orbit("recover", "--auto-resume")
            assert recovered.returncode == 0, f"{case}: {recovered.stdout}{recovered.stderr}"
            assert f"resumed run {dead} as run " in recovered.stdout, case

            expected = {**expected, **served} if mode == "soft-refresh" else served
            assert stored() == expected, case
            assert store.count_points("big") == len(expected), case  # no duplicates
            for kind in ("ingestion", "chart"):
                transformer = store.get_transformer(kind, "big")
                assert transformer is not None and not transformer.outdated_reason, case
            metric = store.get_metric("big")
            assert metric["refresh_run_id"] is None and metric["last_error"] is None, case
            progress = json.loads(orbit("progress", "big", "--json").stdout)
            assert progress["isProcessing"] is False and progress["error"] is None, case
            instance = dg.DagsterInstance.from_config(dagster_on_postgres)
            run = instance.get_run_by_id(dead)
            assert run is not None and run.status == dg.DagsterRunStatus.FAILURE, case
            assert "is gone" in run.tags[INTERRUPTED_TAG], case
            steps = {row["endpoint"]: row["status"] for row in store.refresh_log.steps("big", dead)}
            assert steps[f"pipeline:{stage}"] == "interrupted", f"{case}: {steps}"
