"""The code location loads without a warning: Dagster's own tools (`dagster job execute`,
`dg dev`) print whatever warning loading it raises, in front of every user; and `make dev`
starts the UI with none of its own."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from orbit_dagster_tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent

LOAD = (
    "from orbit_dagster.definitions import defs\n"
    "repository = defs().get_repository_def()\n"
    "print(len(repository.get_all_jobs()), 'jobs', len(repository.sensor_defs), 'sensors')\n"
)


def test_loading_the_location_as_dagster_does_prints_no_warning(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORBIT_", "DAGSTER_"))}
    env["ORBIT_DATA_DIR"] = str(tmp_path)
    # `-W default`: every warning shown once, as Dagster's command line shows them.
    loaded = subprocess.run(
        [sys.executable, "-W", "default", "-c", LOAD],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert " sensors" in loaded.stdout  # the sensors were built: where the warning came from
    assert "Warning" not in loaded.stderr, loaded.stderr


def test_make_dev_starts_the_ui_and_the_daemon_without_a_warning(tmp_path):
    # README's way to the UI, as a user runs it: the project's dagster.yaml once sat at the
    # project root, so Dagster warned that it was ignored, and `dagster dev` is superseded.
    port = free_port()
    log = tmp_path / "dev.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORBIT_", "DAGSTER_"))}
    env["ORBIT_DATA_DIR"] = str(tmp_path / "data")
    with open(log, "wb") as out:
        dev = subprocess.Popen(
            ["make", "--no-print-directory", "dev", f"PORT={port}"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # make, dg, dagster dev, the webserver, daemon, code server
        )
        try:
            assert location_loads(port, dev), log.read_text(errors="replace")
            time.sleep(3)  # the daemon's first ticks log their lines too
            shown = log.read_text(errors="replace")
        finally:
            os.killpg(dev.pid, signal.SIGTERM)
            dev.wait(timeout=60)
    assert "Serving dagster-webserver on http://127.0.0.1" in shown
    assert "SensorDaemon" in shown
    # Dagster's event-log daemon says, once on an instance's first start, that it has no
    # cursor yet: the daemon's own log line about its own state, nothing to act on.
    warned = [
        line
        for line in shown.splitlines()
        if ("WARNING" in line or "Warning" in line) and "No cursor for event type" not in line
    ]
    assert warned == [], shown


def location_loads(port: int, dev: subprocess.Popen, timeout: float = 120) -> bool:
    """Whether the webserver on `port` reports the `orbit` code location loaded in time."""
    query = (
        b'{"query": "{ workspaceOrError { ... on Workspace { locationEntries { loadStatus } } } }"}'
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and dev.poll() is None:
        try:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/graphql",
                data=query,
                headers={"content-type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=5) as response:
                if b'"loadStatus":"LOADED"' in response.read():
                    return True
        except OSError:
            pass  # not listening yet
        time.sleep(0.5)
    return False
