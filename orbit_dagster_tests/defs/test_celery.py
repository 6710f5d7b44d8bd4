"""Scale-out on dagster-celery: two real workers on a local broker (Redis, RabbitMQ) run the
steps of metric refreshes launched as users launch them (`dagster job execute`), on
Postgres-backed Dagster storage, and the per-metric lock still lets only one run refresh a
metric at a time."""

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import kombu.exceptions
import pytest
import redis
import yaml
from kombu.connection import Connection

from orbit_dagster import settings
from orbit_dagster.dagster_api import ensure_metric_partitions
from orbit_dagster.definitions import CELERY_CONFIG
from orbit_dagster.refresh.jobs import BATCH_JOB, batch_run_config
from orbit_dagster.sources import sample_path
from orbit_dagster.store import Store
from orbit_dagster_tests.conftest import empty_store
from orbit_dagster_tests.scratch_database import scratch_database, url_text
from orbit_dagster_tests.servers import json_server

ROOT = settings.PROJECT_ROOT
BIN = Path(sys.executable).parent
REDIS = "redis://127.0.0.1:6379"
RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"
# Redis databases of this test alone, emptied before and after: no task of another run leaks in.
BROKER_DB, BACKEND_DB = 11, 12
QUEUE = "dagster"  # dagster-celery's default queue, emptied on RabbitMQ for the same reason
WORKERS = ("orbit-w1", "orbit-w2")
READY_SECONDS = 60
RUN_SECONDS = 240
# One test worker runs them all: they share the Redis databases and the RabbitMQ queue above.
pytestmark = pytest.mark.xdist_group("celery")


@pytest.fixture
def dagster_postgres() -> Iterator[str]:
    """A fresh Postgres database for Dagster's own storage, dropped afterwards."""
    with scratch_database("orbit_celery") as url:
        yield url_text(url)


def empty_broker(broker: str) -> None:
    """No task left over from another test run: empty this test's Redis dbs and queue."""
    for db in (BROKER_DB, BACKEND_DB):
        redis.Redis.from_url(f"{REDIS}/{db}").flushdb()
    if broker == "rabbitmq":
        # Deleted, not purged: the workers declare it again with dagster-celery's arguments.
        with Connection(RABBITMQ) as connection:
            connection.default_channel.queue_delete(QUEUE)


@pytest.fixture(params=["redis", "rabbitmq"])
def celery_env(request, tmp_path, postgres_url, dagster_postgres) -> Iterator[dict[str, str]]:
    """The environment of the workers and of every run: one instance, one store, one broker."""
    broker = request.param
    try:
        redis.Redis.from_url(REDIS).ping()
        if broker == "rabbitmq":
            with Connection(RABBITMQ) as connection:
                connection.ensure_connection(max_retries=1)
    except (redis.RedisError, OSError, kombu.exceptions.KombuError) as error:
        pytest.fail(f"{broker} is required on 127.0.0.1 and is not reachable ({error})")
    empty_broker(broker)
    empty_store(postgres_url)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "deploy/postgres/dagster.yaml", home / "dagster.yaml")
    yield {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DAGSTER_POSTGRES_URL": dagster_postgres,
        "ORBIT_DATABASE_URL": postgres_url,
        "ORBIT_DATA_DIR": str(tmp_path / "data"),
        "ORBIT_EXECUTOR": "celery",
        "ORBIT_CELERY_BROKER": RABBITMQ if broker == "rabbitmq" else f"{REDIS}/{BROKER_DB}",
        "ORBIT_CELERY_BACKEND": f"{REDIS}/{BACKEND_DB}",
        # `dagster-celery worker start` runs `celery` from PATH, as in an activated venv.
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    empty_broker(broker)


@contextmanager
def celery_workers(env: dict[str, str], logs: Path) -> Iterator[None]:
    """The two workers, each a real `dagster-celery worker start` process running one task at
    a time in its own process (solo pool), stopped with their process groups."""
    workers = []
    for name in WORKERS:
        log = open(logs / f"{name}.log", "wb")  # noqa: SIM115 (closed in finally)
        command = [
            str(BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app",
            "-y", str(ROOT / "deploy/celery/celery.yaml"), "-n", name,
            # One task at a time in the worker's own process; Celery still counts the host's
            # cores as its concurrency (and reserves that many tasks) unless told otherwise.
            "--", "--pool", "solo", "--concurrency", "1",
        ]  # fmt: skip
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        workers.append((process, log, logs / f"{name}.log"))
    try:
        deadline = time.monotonic() + READY_SECONDS
        for process, _log, path in workers:
            while b" ready." not in path.read_bytes():
                assert process.poll() is None, path.read_text()[-3000:]
                assert time.monotonic() < deadline, path.read_text()[-3000:]
                time.sleep(0.5)
        yield
    finally:
        for process, _log, _path in workers:
            stop(process, signal.SIGTERM)
        for process, log, _path in workers:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                stop(process, signal.SIGKILL)
                process.wait()
            log.close()


def stop(process: subprocess.Popen, signum: int) -> None:
    """Signal the process's whole group (the worker command and its `celery` child)."""
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass  # already gone


@pytest.fixture
def launch(celery_env, tmp_path) -> Iterator[Callable[[str, dict], subprocess.Popen]]:
    """`dagster job execute` as a user runs it, in the background; any run process still alive
    when the test ends (a failing test) is killed."""
    launched: list[subprocess.Popen] = []

    def start(job: str, run_config: dict) -> subprocess.Popen:
        config = tmp_path / f"run-{uuid.uuid4().hex[:8]}.yaml"
        config.write_text(yaml.safe_dump(run_config))
        command = [
            str(BIN / "dagster"), "job", "execute", "-m", "orbit_dagster.definitions",
            "-j", job, "-c", str(config),
        ]  # fmt: skip
        process = subprocess.Popen(
            command, env=celery_env, cwd=tmp_path, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        launched.append(process)
        return process

    yield start
    for process in launched:
        if process.poll() is None:
            stop(process, signal.SIGKILL)
            process.wait()


def worker_of_each_step(instance: dg.DagsterInstance) -> dict[tuple[str, str], str]:
    """(run id, step key) → the Celery worker that executed it, from the runs' event logs."""
    ran_on = {}
    for run in instance.get_runs():
        for record in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
            event = record.dagster_event
            if event is None or event.step_key is None:
                continue
            worker = event.engine_event_data.metadata.get("Celery worker")
            if worker is not None:
                ran_on[(run.run_id, event.step_key)] = str(worker.value).split("@")[0]
    return ran_on


def test_workers_and_the_executor_share_one_celery_config():
    workers = yaml.safe_load((ROOT / "deploy/celery/celery.yaml").read_text())
    assert workers["execution"]["config"] == CELERY_CONFIG


def test_two_celery_workers_share_the_steps_and_the_metric_lock_holds(
    celery_env, launch, tmp_path, postgres_url, monkeypatch
):
    store = Store(postgres_url)
    metric_ids = [f"celery-{n}" for n in range(4)]
    for metric_id in metric_ids:
        store.add_metric(
            metric_id,
            name="Series",
            template="file",
            config={"path": str(sample_path("timeseries"))},
        )
    for name in ("DAGSTER_HOME", "DAGSTER_POSTGRES_URL"):
        monkeypatch.setenv(name, celery_env[name])
    # Dagster's tables exist before the workers start, as README says (`dagster instance
    # migrate`): two workers opening an empty Postgres instance at once both create them, and
    # the second fails on "type instigators already exists".
    with dg.DagsterInstance.get() as instance:
        ensure_metric_partitions(instance, [*metric_ids, "held"])
    with json_server() as server, celery_workers(celery_env, tmp_path):
        # A metric whose source answers only when released: its refresh holds its lock.
        server.hold, server.hold_seconds = threading.Event(), RUN_SECONDS
        server.routes["/series"] = (200, [{"date": "2026-10-01", "value": 7}])
        store.add_metric(
            "held", name="Held", template="http-json", config={"url": f"{server.base_url}/series"}
        )

        first_held = launch(BATCH_JOB, batch_run_config(["held"], "create"))
        deadline = time.monotonic() + RUN_SECONDS
        while not server.requests:
            assert first_held.poll() is None, first_held.stdout.read().decode()[-3000:]
            assert time.monotonic() < deadline
            time.sleep(0.2)
        # While the held refresh waits on its source, the other worker takes the batches,
        # and a second refresh of the held metric is refused, not interleaved.
        second_held = launch(BATCH_JOB, batch_run_config(["held"], "create"))
        batches = [
            launch(BATCH_JOB, batch_run_config(metric_ids[:2], "create")),
            launch(BATCH_JOB, batch_run_config(metric_ids[2:], "create")),
        ]
        second_output = second_held.communicate(timeout=RUN_SECONDS)[0].decode()
        assert second_held.returncode != 0
        assert "held: metric 'held' is being refreshed by run" in second_output
        server.hold.set()
        for process in (first_held, *batches):
            output = process.communicate(timeout=RUN_SECONDS)[0].decode()
            assert process.returncode == 0, output[-3000:]

        with dg.DagsterInstance.get() as instance:
            ran_on = worker_of_each_step(instance)
    assert set(ran_on.values()) == set(WORKERS), ran_on
    for metric_id in metric_ids:
        assert store.count_points(metric_id) == 30
    assert [p.value for p in store.list_points("held")] == [7.0]
    assert store.get_metric("held")["refresh_run_id"] is None
