"""What the refresh chain hands from op to op: kept in the store (redacted, compressed) while a
re-execution may need it, never pickled under DAGSTER_HOME.

Runs go through a persistent instance on disk, as `orbit refresh` and `dagster job execute` use
one. Re-execution is Dagster's own (`ReexecutionOptions.from_failure`, as the UI's "re-execute
from failure" and run retries do), after a run failed at a step or its process was SIGKILLed.
"""

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml

from orbit_dagster.dagster_api import ensure_metric_partitions, run_refresh
from orbit_dagster.refresh.jobs import PARTITION_TAG, REFRESH_JOB, refresh_run_config
from orbit_dagster.refresh.modes import Mode
from orbit_dagster.refresh.state import decode
from orbit_dagster.store import Store
from orbit_dagster.store import schema as t
from orbit_dagster_tests.servers import json_server
from orbit_dagster_tests.transformers.chat_server import MODEL_CHART, Delay, chat_server

SQLITE_ONLY = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
BIN = Path(sys.executable).parent
BIG = 50_000
# Dagster's run and event-log databases grow by each run's events whatever its payload
# (~300 KB a refresh on SQLite, which starts a database file per run, plus the chart picture
# in the materialization metadata). The rest of DAGSTER_HOME, where IO managers keep outputs,
# is bounded here; the token test below greps every file, these databases included.
DAGSTER_DATABASES = "history"
GROWTH_LIMIT = 100_000
TOKEN = "tok-echoed-9f3Kx2Lq7Zp"
FAILING_CHART = "def transform(points, config):\n    raise ValueError('chart broke')\n"
INGESTION = """```python
def transform(payload, config):
    return [{"date": r["date"], "value": r["value"], "dimensions": None} for r in payload["data"]]
```"""
DAYS = [f"2026-10-{d:02d}" for d in range(1, 8)]
SERIES = {"data": [{"date": d, "value": i + 1} for i, d in enumerate(DAYS)]}


def refresh_job() -> dg.JobDefinition:
    """The job as a reconstructable target (module level), for execute_job and re-execution."""
    from orbit_dagster.definitions import defs

    return defs().resolve_job_def(REFRESH_JOB)


def refresh_job_with_model() -> dg.JobDefinition:
    """The same job as a target of its own: Dagster keeps a target's definitions per process,
    with the values read from the environment when they loaded (the model server's URL)."""
    return refresh_job()


@pytest.fixture
def home(tmp_path) -> Path:
    path = tmp_path / "dagster_home"
    path.mkdir()
    return path


@pytest.fixture
def home_instance(home) -> Iterator[dg.DagsterInstance]:
    """A persistent instance: SQLite run and event storage, and its storage folder, in `home`."""
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        yield instance


@pytest.fixture
def store(orbit_env) -> Store:
    return Store(orbit_env)


def tree_size(home: Path, *, skip: str | None = None) -> int:
    return sum(
        path.stat().st_size
        for path in home.rglob("*")
        if path.is_file() and (skip is None or path.relative_to(home).parts[0] != skip)
    )


def kept_outputs(store: Store) -> dict[tuple[str, str], bytes]:
    """(run id, step key) → the decompressed bytes of every step output in the store."""
    c = t.step_outputs.c
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(c.run_id, c.step_key, c.data)).all()
    return {(run_id, step): zlib.decompress(data) for run_id, step, data in rows}


def break_the_chart_transformer(store: Store, metric_id: str) -> None:
    """The metric's chart transformer raises: a soft refresh reuses it and fails at
    executing-chart-transformer, after every earlier step succeeded."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with store.engine.begin() as conn:
        conn.execute(
            t.chart_transformers.insert().values(
                metric_id=metric_id,
                code=FAILING_CHART,
                generator="test",
                template="http-json",
                created_at=now,
                updated_at=now,
            )
        )


def execute(instance: dg.DagsterInstance, metric_id: str, mode: Mode) -> tuple[str, bool]:
    """A refresh through `execute_job`, as re-execution needs it: (run id, success)."""
    ensure_metric_partitions(instance, [metric_id])
    with dg.execute_job(
        dg.reconstructable(refresh_job),
        instance,
        run_config=refresh_run_config(mode),
        tags={PARTITION_TAG: metric_id},
    ) as result:
        return result.run_id, result.success


def reexecute(
    instance: dg.DagsterInstance, run_id: str, target=refresh_job
) -> tuple[bool, set[str], str]:
    """Re-execute from failure: (success, steps that succeeded, why its first step failed).

    As the UI does, with the parent's tags (its partition) and run config: `execute_job`
    does not carry them over on its own.
    """
    parent = instance.get_run_by_id(run_id)
    assert parent is not None
    with dg.execute_job(
        dg.reconstructable(target),
        instance,
        run_config=parent.run_config,
        tags=parent.tags,
        reexecution_options=dg.ReexecutionOptions.from_failure(run_id, instance),
    ) as result:
        succeeded = {e.step_key or "" for e in result.all_events if e.is_step_success}
        failures = [e.step_failure_data for e in result.all_events if e.is_step_failure]
        if not failures:
            return result.success, succeeded, ""
        said = failures[0].user_failure_data  # a dg.Failure's description is the whole message
        error = said.description if said else None
        traceback = failures[0].error.to_string() if failures[0].error else "the step failed"
        return result.success, succeeded, error or traceback


def add_big_metric(store: Store, tmp_path: Path) -> None:
    """Metric `big`: 50,000 hourly points from a file."""
    start = dt.datetime(2020, 1, 1)
    rows = [
        {"date": (start + dt.timedelta(hours=i)).isoformat() + "Z", "value": i % 97}
        for i in range(BIG)
    ]
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"data": rows}))
    store.add_metric("big", name="Big", template="file", config={"path": str(path)})


def test_a_refresh_of_50k_points_leaves_no_payload_under_dagster_home(
    store, definitions, home_instance, home, tmp_path
):
    add_big_metric(store, tmp_path)
    ensure_metric_partitions(home_instance, ["big"])
    before = tree_size(home, skip=DAGSTER_DATABASES)
    outcome = run_refresh(definitions, home_instance, "big", "create")
    assert outcome.success, outcome.error
    assert store.count_points("big") == BIG
    growth = tree_size(home, skip=DAGSTER_DATABASES) - before
    print(f"\nDAGSTER_HOME grew {growth} bytes besides Dagster's databases")
    assert growth < GROWTH_LIMIT
    assert kept_outputs(store) == {}  # the refresh completed: its step outputs are deleted


@SQLITE_ONLY
def test_with_dagster_storage_on_postgres_the_whole_dagster_home_grows_under_100_kb(
    store, definitions, dagster_on_postgres, tmp_path
):
    # Production's layout (deploy/postgres): runs and events in Postgres, so DAGSTER_HOME
    # keeps only what a run writes to disk, every byte of which is counted here.
    add_big_metric(store, tmp_path)
    home = Path(dagster_on_postgres)
    with dg.DagsterInstance.from_config(dagster_on_postgres) as instance:
        ensure_metric_partitions(instance, ["big"])
        before = tree_size(home)
        outcome = run_refresh(definitions, instance, "big", "create")
        assert outcome.success, outcome.error
        growth = tree_size(home) - before
    assert store.count_points("big") == BIG
    print(f"\nDAGSTER_HOME (Dagster storage on Postgres) grew {growth} bytes")
    assert growth < GROWTH_LIMIT


@SQLITE_ONLY
def test_a_token_echoed_by_the_source_is_nowhere_after_a_failed_run(
    store, definitions, home_instance, home, monkeypatch
):
    monkeypatch.setenv("ORBIT_TEST_TOKEN", TOKEN)
    with json_server() as server:
        server.routes["/series"] = (200, {**SERIES, "you_sent": f"Bearer {TOKEN}"})
        config = {"url": f"{server.base_url}/series", "token_env": "ORBIT_TEST_TOKEN"}
        store.add_metric("m", name="Echo", template="http-json", config=config)
        break_the_chart_transformer(store, "m")
        outcome = run_refresh(definitions, home_instance, "m", "soft-refresh")
    assert not outcome.success and "chart broke" in (outcome.error or "")
    # The failed run keeps its step outputs for re-execution: redacted.
    outputs = kept_outputs(store)
    fetched = decode(outputs[(outcome.run_id, "metric_refresh.fetch_api_data")])
    assert fetched.payload["you_sent"] == "Bearer REDACTED"
    leaks = [
        str(path.relative_to(home))
        for path in home.rglob("*")
        if path.is_file() and TOKEN.encode() in path.read_bytes()
    ]
    assert leaks == []
    with store.engine.connect() as conn:
        for table in t.metadata.sorted_tables:
            for row in conn.execute(sa.select(table)).mappings():
                for column, value in row.items():
                    text = zlib.decompress(value) if isinstance(value, bytes) else str(value)
                    assert TOKEN not in str(text), f"{table.name}.{column}"


@pytest.fixture
def dagster_home(home, monkeypatch) -> Iterator[dg.DagsterInstance]:
    """DAGSTER_HOME as `dagster job execute` uses it, shared by this test and its subprocess."""
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        yield instance


@pytest.fixture
def model(monkeypatch) -> Iterator:
    """The model writing both transformers: an OpenAI-compatible server on 127.0.0.1."""
    with chat_server() as server:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-step-outputs")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("ORBIT_OPENAI_MODEL", "orbit-test-model")
        yield server
        server.released.set()  # a reply still held for the killed run


@SQLITE_ONLY
def test_a_run_killed_mid_refresh_is_reexecuted_from_failure_without_a_second_fetch(
    store, dagster_home, model, tmp_path
):
    with json_server() as source:
        source.routes["/series"] = (200, SERIES)
        store.add_metric(
            "m", name="Series", template="http-json", config={"url": f"{source.base_url}/series"}
        )
        ensure_metric_partitions(dagster_home, ["m"])
        # The model answers for the ingestion transformer and holds the chart's answer: the
        # run process is killed there, after the points were saved.
        model.replies = [INGESTION, Delay(120, MODEL_CHART)]
        run_config = tmp_path / "run.yaml"
        run_config.write_text(yaml.safe_dump(refresh_run_config("create")))
        # Its output goes to a file: a pipe nobody reads could fill and stall the run.
        output = tmp_path / "job.log"
        with open(output, "wb") as log:
            process = subprocess.Popen(
                [
                    str(BIN / "dagster"),
                    "job",
                    "execute",
                    "-m",
                    "orbit_dagster.definitions",
                    "-j",
                    REFRESH_JOB,
                    "-c",
                    str(run_config),
                    "--tags",
                    json.dumps({PARTITION_TAG: "m"}),
                ],  # fmt: skip
                env=os.environ.copy(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            deadline = time.monotonic() + 120
            while len(model.requests) < 2:
                assert process.poll() is None, output.read_text()[-3000:]
                assert time.monotonic() < deadline
                time.sleep(0.1)
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        [killed] = dagster_home.get_runs()
        assert store.count_points("m") == len(DAYS)
        kept = {step for run_id, step in kept_outputs(store) if run_id == killed.run_id}
        assert "metric_refresh.save_timeseries_data" in kept
        # What run monitoring does for a run whose process died; then run retries, or a user,
        # re-execute it from the failed step.
        dagster_home.report_run_failed(killed)
        model.replies = [MODEL_CHART]
        success, succeeded, error = reexecute(dagster_home, killed.run_id, refresh_job_with_model)
        assert success, error
        assert source.requests == ["/series"]  # fetched once, by the killed run
    assert "metric_refresh.fetch_api_data" not in succeeded
    assert "metric_refresh.generate_chart_transformer" in succeeded
    assert [p.value for p in store.list_points("m")] == [float(i + 1) for i in range(len(DAYS))]
    assert (store.get_chart_config("m") or {})["title"] == "Model chart"
    assert kept_outputs(store) == {}  # both runs' outputs went when the refresh completed


def test_a_reexecution_whose_kept_outputs_were_swept_fails_saying_so(store, home_instance):
    with json_server() as source:
        source.routes["/series"] = (200, SERIES)
        store.add_metric(
            "m", name="Series", template="http-json", config={"url": f"{source.base_url}/series"}
        )
        break_the_chart_transformer(store, "m")
        failed_run, success = execute(home_instance, "m", "soft-refresh")
    assert not success
    kept = {step for run_id, step in kept_outputs(store) if run_id == failed_run}
    assert "metric_refresh.generate_chart_transformer" in kept
    assert store.step_outputs.sweep(dt.timedelta(0)) == len(kept)
    success, _, error = reexecute(home_instance, failed_run)
    assert not success
    assert "\n" not in error
    assert error.startswith(
        "the output of step metric_refresh.generate_chart_transformer of run "
        f"{failed_run} is no longer kept"
    )
    assert error.endswith("start a new refresh of the metric")
