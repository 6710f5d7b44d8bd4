"""A refresh killed with SIGKILL (a real `orbit refresh` process) never locks its metric: the
next claim takes over, the sweep sensor and `orbit recover` fail the dead run with a reason,
and `--auto-resume` finishes it from the step it stopped in."""

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pytest

from orbit_dagster.dagster_api.interrupted import INTERRUPTED_TAG
from orbit_dagster.defs.resources import OrbitStore
from orbit_dagster.refresh.jobs import REFRESH_JOB
from orbit_dagster.store import Store
from orbit_dagster_tests.servers import json_server

DAYS = [
    {"date": (dt.date(2026, 1, 1) + dt.timedelta(days=n)).isoformat(), "value": n}
    for n in range(30)
]


class Orbit:
    """`orbit` subprocesses on one data folder and one DAGSTER_HOME, as a user runs them."""

    def __init__(self, tmp_path: Path):
        self.data = tmp_path / "data"
        self.home = tmp_path / "dagster_home"
        self.home.mkdir()
        self.data.mkdir()
        (self.home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        self.env = {
            **{k: v for k, v in os.environ.items() if k != "ORBIT_DATABASE_URL"},
            "ORBIT_DATA_DIR": str(self.data),
            "DAGSTER_HOME": str(self.home),
        }
        self.store = Store(f"sqlite:///{self.data / 'orbit.sqlite3'}")

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "orbit_dagster.cli", *args]

    def __call__(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.command(*args), env=self.env, capture_output=True, text=True, timeout=180
        )

    def start(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            self.command(*args), env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_config(str(self.home))


@pytest.fixture
def orbit(tmp_path) -> Orbit:
    return Orbit(tmp_path)


@contextmanager
def killed_during_fetch(orbit: Orbit) -> Iterator[tuple[threading.Event, str]]:
    """A metric whose refresh was killed (SIGKILL) while its fetch waited on the server;
    yields the event that releases the server's answers (set on leaving too) and the dead
    run's id."""
    with json_server() as server:
        server.routes["/series"] = (200, {"data": DAYS})
        release = server.hold = threading.Event()
        server.hold_seconds = 120
        add = ("metrics", "add", "--id", "m1", "--name", "Daily value", "--template", "http-json")
        assert orbit(*add, "--config", f"url={server.base_url}/series").returncode == 0
        process = orbit.start("refresh", "m1", "--mode", "create")
        deadline = time.monotonic() + 90
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.requests, "the refresh never reached the server"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        run_id = orbit.store.get_metric("m1")["refresh_run_id"]
        assert run_id is not None  # the dead run still holds the metric
        try:
            yield release, run_id
        finally:
            release.set()


def refreshed_file_metric(orbit: Orbit, tmp_path: Path) -> Path:
    """Metric m1 on a file of DAYS, created by one refresh; returns the file."""
    series = tmp_path / "series.json"
    series.write_text(json.dumps(DAYS))
    add = ("metrics", "add", "--id", "m1", "--name", "Daily value", "--template", "file")
    assert orbit(*add, "--config", f"path={series}").returncode == 0
    assert orbit("refresh", "m1", "--mode", "create").returncode == 0
    return series


def steps(store: Store, run_id: str) -> dict[str, str]:
    return {row["endpoint"]: row["status"] for row in store.refresh_log.steps("m1", run_id)}


def test_recover_fails_the_dead_run_and_auto_resume_finishes_it(orbit):
    with killed_during_fetch(orbit) as (release, dead):
        listed = orbit("check-interrupted", "--json")
        assert listed.returncode == 0, listed.stderr
        (found,) = json.loads(listed.stdout)
        assert found["run_id"] == dead and found["metric_ids"] == ["m1"]
        assert found["last_step"] == "fetching-api-data" and found["status"] == "started"
        assert found["reason"].startswith("its process (pid ") and "is gone" in found["reason"]
        release.set()
        recovered = orbit("recover", "--auto-resume")
    assert recovered.returncode == 0, recovered.stderr
    assert "failed 1 dead run(s)" in recovered.stdout
    assert f"resumed run {dead} as run " in recovered.stdout

    instance = orbit.instance()
    run = instance.get_run_by_id(dead)
    assert run is not None and run.status == dg.DagsterRunStatus.FAILURE
    assert "is gone" in run.tags[INTERRUPTED_TAG]
    (failure,) = instance.all_logs(dead, of_type=dg.DagsterEventType.RUN_FAILURE)
    assert failure.message.startswith("Orbit found this run dead: its process (pid ")
    (child,) = [r for r in instance.get_runs() if r.run_id != dead]
    assert child.status == dg.DagsterRunStatus.SUCCESS and child.parent_run_id == dead
    assert steps(orbit.store, dead)["pipeline:fetching-api-data"] == "interrupted"
    assert set(steps(orbit.store, child.run_id).values()) <= {"success", "skipped"}
    metric = orbit.store.get_metric("m1")
    assert metric["refresh_run_id"] is None and metric["last_error"] is None
    assert orbit.store.count_points("m1") == len(DAYS)
    assert orbit("progress", "m1").stdout.startswith(f"m1: ok (run {child.run_id})")
    stats = json.loads(orbit("stats", "--json").stdout)
    assert stats["interrupted_runs"] == 1 and stats["runs"] == 2
    # Resumed once: nothing is left to resume, and the dead run's beats are forgotten.
    assert orbit("check-interrupted").stdout.strip() == "no interrupted run"
    assert orbit.store.heartbeats.of_run(dead) == []


def test_the_next_refresh_takes_over_a_killed_run_at_once(orbit):
    with killed_during_fetch(orbit) as (release, dead):
        release.set()
        started = time.monotonic()
        again = orbit("refresh", "m1", "--mode", "create")
        assert again.returncode == 0, again.stderr
        assert time.monotonic() - started < 60  # no waiting out a heartbeat bound
    run = orbit.instance().get_run_by_id(dead)
    assert run is not None and run.status == dg.DagsterRunStatus.FAILURE
    assert steps(orbit.store, dead)["pipeline:fetching-api-data"] == "interrupted"
    assert orbit.store.count_points("m1") == len(DAYS)
    assert orbit.store.get_metric("m1")["refresh_run_id"] is None


def test_the_sweep_sensor_fails_the_dead_run_and_releases_its_metric(orbit):
    from orbit_dagster.definitions import defs

    with killed_during_fetch(orbit) as (_server, dead):
        instance = orbit.instance()
        sensor = defs().resolve_sensor_def("interrupted_runs_sensor")
        resources = {"orbit_store": OrbitStore(database_url=orbit.store.url)}
        with dg.build_sensor_context(instance=instance, resources=resources) as context:
            result = sensor(context)
        assert isinstance(result, dg.SkipReason)
        assert result.skip_message == "failed 1 interrupted run(s); their metrics are released"
        run = instance.get_run_by_id(dead)
        assert run is not None and run.status == dg.DagsterRunStatus.FAILURE
        metric = orbit.store.get_metric("m1")
        assert metric["refresh_run_id"] is None
        assert metric["last_error"] == f"interrupted: run {dead} stopped without finishing"
        progress = orbit("progress", "m1", "--json")
        assert json.loads(progress.stdout)["isProcessing"] is False
        # A second sweep finds nothing more to do.
        with dg.build_sensor_context(instance=instance, resources=resources) as context:
            again = sensor(context)
        assert isinstance(again, dg.SkipReason) and again.skip_message == "no interrupted run"
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.minimum_interval_seconds == 60


def test_a_run_on_an_instance_without_the_partition_writes_nothing(orbit, tmp_path):
    series = refreshed_file_metric(orbit, tmp_path)
    before = (orbit.store.count_points("m1"), orbit.store.refresh_log.run_ids("m1"))
    series.write_text(json.dumps(DAYS[:3]))
    # README's `dagster job execute`, on another DAGSTER_HOME that never heard of the metric.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    config = tmp_path / "refresh.yaml"
    config.write_text("ops:\n  metric_refresh:\n    config:\n      mode: hard-refresh\n")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "job", "execute", "-m",
         "orbit_dagster.definitions", "-j", REFRESH_JOB, "-c", str(config),
         "--tags", json.dumps({"dagster/partition": "m1"})],
        env={**orbit.env, "DAGSTER_HOME": str(elsewhere)},
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "metric 'm1' has no partition in the Dagster instance at " in output
    assert "`orbit sync`" in output  # how to give that instance the partition
    assert (orbit.store.count_points("m1"), orbit.store.refresh_log.run_ids("m1")) == before
    assert orbit.store.get_metric("m1")["refresh_run_id"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("runs", "--status", "sleeping"), "unknown run status 'sleeping'; choose one of: "),
        (("runs", "show", "no-such-run"), "no run no-such-run in the Dagster instance at "),
        (("resume", "no-such-run"), "run no-such-run not resumed: no run no-such-run in "),
    ],
)
def test_run_commands_refuse_bad_input_in_one_line(orbit, args, message):
    result = orbit(*args)
    assert result.returncode == 3  # refused (cli/errors.py's exit codes)
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1


def test_runs_lists_and_shows_a_metric_runs_and_a_succeeded_run_is_not_resumed(orbit, tmp_path):
    series = refreshed_file_metric(orbit, tmp_path)
    series.write_text("not json")
    assert orbit("refresh", "m1").returncode == 1
    listed = json.loads(orbit("runs", "--metric", "m1", "--json").stdout)
    assert [run["status"] for run in listed] == ["failure", "success"]
    failed, succeeded = listed
    assert failed["metrics"] == ["m1"] and "JSON" in failed["error"]
    assert json.loads(orbit("runs", "--status", "failure", "--json").stdout) == [failed]
    table = orbit("runs").stdout.splitlines()
    assert table[0].split() == ["run", "job", "status", "started", "seconds", "metrics", "error"]
    shown = orbit("runs", "show", failed["run_id"]).stdout.splitlines()
    assert shown[0] == f"run {failed['run_id']}  refresh_metric_job  failure"
    assert any(line.split()[:2] == ["fetching-api-data", "failed"] for line in shown)
    shown = orbit("runs", "show", succeeded["run_id"]).stdout
    assert "request log of fetching-api-data:" in shown and "payload of type list" in shown
    refused = orbit("resume", succeeded["run_id"])
    assert refused.returncode == 3
    assert "succeeded: there is nothing to resume" in refused.stderr
