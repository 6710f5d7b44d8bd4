"""End to end with the real daemon: `orbit metrics add` alone gets a metric its points."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from orbit_dagster import settings
from orbit_dagster.store import Store
from orbit_dagster_tests.conftest import create_instance_storage

DEADLINE_SECONDS = 150


def test_daemon_turns_a_new_metric_into_a_partition_with_points(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(settings.INSTANCE_YAML, home / "dagster.yaml")
    payload = tmp_path / "series.json"
    payload.write_text(json.dumps([{"date": f"2026-10-0{d}", "value": d} for d in range(1, 6)]))
    env = {
        **{k: v for k, v in os.environ.items() if k != "ORBIT_DATABASE_URL"},
        "DAGSTER_HOME": str(home),
        "ORBIT_DATA_DIR": str(tmp_path / "data"),
    }
    log_path = tmp_path / "daemon.log"
    create_instance_storage(home)  # before the daemon and `orbit` open it at once
    with open(log_path, "wb") as log:
        daemon = subprocess.Popen(
            [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", "workspace.yaml"],
            cwd=settings.PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        added = subprocess.run(
            [sys.executable, "-m", "orbit_dagster.cli", "metrics", "add", "--id", "daemon-metric",
             "--name", "Daemon", "--template", "file", "--config", f"path={payload}"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        store = Store(f"sqlite:///{tmp_path / 'data' / 'orbit.sqlite3'}")
        deadline = time.monotonic() + DEADLINE_SECONDS
        # Done when the whole refresh has finished (its last step sets last_fetched_at).
        while (
            time.monotonic() < deadline and not store.get_metric("daemon-metric")["last_fetched_at"]
        ):
            assert daemon.poll() is None, log_path.read_text()[-3000:]
            time.sleep(1)
        assert store.count_points("daemon-metric") == 5, log_path.read_text()[-3000:]
        metric = store.get_metric("daemon-metric")
        assert metric["refresh_status"] is None and metric["last_error"] is None
        assert store.get_chart_config("daemon-metric") is not None
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        daemon.wait(timeout=30)
