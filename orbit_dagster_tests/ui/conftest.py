"""One instance, one webserver and one browser for the whole UI module.

The instance is made as a user makes it: `orbit metrics add` and `orbit refresh` (subprocesses,
so each one-metric run draws its chart and records the four checks), then `pipeline_health_job`
materialized a few times so its figures have points to plot. `dagster-webserver` serves it on
a free port of 127.0.0.1; Playwright drives Debian's Chromium (`/usr/bin/chromium`): the
browser Playwright downloads for itself cannot be fetched here, Debian's package can.
Screenshots go to `ORBIT_UI_SCREENSHOTS` when set (the README's three under docs/screenshots
are copied from there), else to a temporary folder kept by pytest.
"""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, ViewportSize, sync_playwright

from orbit_dagster import settings
from orbit_dagster.sources.bundled import sample_path
from orbit_dagster.store import Store
from orbit_dagster_tests.conftest import create_instance_storage
from orbit_dagster_tests.servers import free_port

CHROMIUM = Path("/usr/bin/chromium")
# The flags this machine needs: without the background-networking ones Chromium's calls to
# Google's hosts are refused by the closed network, many at a time.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Tall enough for the whole asset graph at the zoom the UI opens it with.
VIEWPORT: ViewportSize = {"width": 1400, "height": 1100}
# A series whose last value is a jump and which has a hole: its `no_gaps` and `no_jumps`
# checks fail, so the UI shows a failed check beside the passing ones.
GAPPY_SERIES = [
    *({"date": f"2026-10-{day:02d}", "value": 100 + day} for day in range(1, 11)),
    *({"date": f"2026-10-{day:02d}", "value": 110 + day} for day in range(25, 30)),
    {"date": "2026-10-30", "value": 5000},
]
HEALTH_RUNS = 3
STARTUP_SECONDS = 90


@dataclass(frozen=True)
class OrbitUI:
    url: str
    metric_id: str  # refreshed cleanly: every check passes, its chart is drawn
    gappy_metric_id: str  # refreshed with a gap and a jump in its series
    store: Store  # the Orbit store the refreshes wrote
    definitions: dg.Definitions  # the code location the webserver serves
    screenshots: Path


def _orbit(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "orbit_dagster.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, f"orbit {' '.join(args)} failed: {done.stderr[-2000:]}"


def _make_instance(env: dict[str, str], gappy_file: Path) -> dg.Definitions:
    """Two refreshed metrics and several `pipeline_health` materializations in the instance
    of `env`'s DAGSTER_HOME; returns the code location's Definitions bound to that env."""
    gappy_file.parent.mkdir(parents=True, exist_ok=True)
    gappy_file.write_text(json.dumps(GAPPY_SERIES))
    for metric_id, name, path in (
        ("daily-active-users", "Daily active users", sample_path("timeseries")),
        ("orders-with-a-gap", "Orders per day", gappy_file),
    ):
        _orbit(env, "metrics", "add", "--id", metric_id, "--name", name, "--template", "file",
               "--config", f"path={path}")  # fmt: skip
        _orbit(env, "refresh", metric_id)
    # In this process (a `dagster job execute` each would cost an import of Dagster). The
    # resources read the environment when the Definitions are built, so both happen here.
    from orbit_dagster.definitions import defs

    with pytest.MonkeyPatch.context() as patch:
        for name in ("DAGSTER_HOME", "ORBIT_DATA_DIR"):
            patch.setenv(name, env[name])
        patch.delenv("ORBIT_DATABASE_URL", raising=False)
        definitions = defs()
        job = definitions.resolve_job_def("pipeline_health_job")
        with dg.DagsterInstance.get() as instance:
            for _ in range(HEALTH_RUNS):
                assert job.execute_in_process(instance=instance).success
    return definitions


def _wait_for_webserver(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"dagster-webserver exited ({process.returncode}): {log.read_text()[-2000:]}"
            )
        try:
            if httpx.get(f"{url}/server_info", timeout=2).is_success:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"dagster-webserver did not answer {url}/server_info in {STARTUP_SECONDS} s")


@pytest.fixture(scope="module")
def orbit_ui(tmp_path_factory) -> Iterator[OrbitUI]:
    """The webserver over an instance that has run two refreshes and `pipeline_health`."""
    root = tmp_path_factory.mktemp("ui")
    home = root / "dagster_home"
    home.mkdir()
    # The project's instance settings, without the first-visit newsletter dialog that would
    # cover every page (the instance's `nux` setting; telemetry is already off there).
    instance_yaml = settings.INSTANCE_YAML.read_text()
    (home / "dagster.yaml").write_text(instance_yaml + "\nnux:\n  enabled: false\n")
    env = {
        **{k: v for k, v in os.environ.items() if k != "ORBIT_DATABASE_URL"},
        "DAGSTER_HOME": str(home),
        "ORBIT_DATA_DIR": str(root / "data"),
    }
    screenshots = Path(os.environ.get("ORBIT_UI_SCREENSHOTS") or root / "screenshots")
    screenshots.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = root / "webserver.log"
    create_instance_storage(home)  # before the webserver and the refreshes open it at once
    # Started first: it loads the code location while the runs are made (it reads the
    # instance when a page asks, so it sees runs made after it started).
    with open(log, "wb") as out:
        webserver = subprocess.Popen(
            [str(Path(sys.executable).parent / "dagster-webserver"), "-h", "127.0.0.1",
             "-p", str(port), "-w", "workspace.yaml"],
            cwd=settings.PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        definitions = _make_instance(env, root / "data" / "orders.json")
        url = f"http://127.0.0.1:{port}"
        _wait_for_webserver(url, webserver, log)
        store = Store(f"sqlite:///{root / 'data' / 'orbit.sqlite3'}")
        yield OrbitUI(
            url, "daily-active-users", "orders-with-a-gap", store, definitions, screenshots
        )
    finally:
        # Its own session: the code server it started goes with it.
        os.killpg(webserver.pid, signal.SIGTERM)
        webserver.wait(timeout=30)


@pytest.fixture(scope="module")
def browser(orbit_ui: OrbitUI, tmp_path_factory) -> Iterator[BrowserContext]:
    """Headless Debian Chromium with a fresh profile, its pages relative to the webserver.

    It starts after the instance is made: Playwright's sync API keeps an event loop running,
    and Dagster's in-process runs expect none."""
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: install it with `apt-get install -y "
                    "chromium` (.ci/run does when it is missing)")  # fmt: skip
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path_factory.mktemp("chromium-profile"),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport=VIEWPORT,
            base_url=orbit_ui.url,
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser) -> Iterator[Page]:
    page = browser.new_page()
    try:
        yield page
    finally:
        page.close()
