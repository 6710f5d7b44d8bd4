"""The whole refresh through Dagster, on SQLite and on Postgres, in all three modes."""

import json
import threading
import time

import dagster as dg
import pytest
import sqlalchemy as sa

from orbit_dagster.dagster_api import ensure_metric_partitions, run_refresh
from orbit_dagster.dagster_api.interrupted import run_is_active
from orbit_dagster.refresh.jobs import REFRESH_JOB, refresh_run_config
from orbit_dagster.refresh.modes import Mode
from orbit_dagster.refresh.progress import progress_answer
from orbit_dagster.refresh.table import STEP_NAMES as STEPS
from orbit_dagster.store import Store
from orbit_dagster.store import schema as t
from orbit_dagster_tests.servers import json_server

DAYS = ["2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04"]


def series(days: list[str], scale: float = 1.0) -> dict:
    return {"data": [{"date": d, "value": (i + 1) * scale} for i, d in enumerate(days)]}


@pytest.fixture
def payload_file(tmp_path):
    path = tmp_path / "payload.json"
    path.write_text(json.dumps(series(DAYS)))
    return path


@pytest.fixture
def store(orbit_env) -> Store:
    return Store(orbit_env)


@pytest.fixture
def refresh(definitions, instance):
    def run(metric_id: str, mode: Mode):
        return run_refresh(definitions, instance, metric_id, mode)

    return run


@pytest.fixture
def metric(store, payload_file) -> str:
    store.add_metric("m1", name="Signups", template="file", config={"path": str(payload_file)})
    return "m1"


def values(store: Store, metric_id: str) -> list[tuple[str, float]]:
    return [(p.to_json()["date"][:10], p.value) for p in store.list_points(metric_id)]


def statuses(store: Store, metric_id: str, run_id: str) -> dict[str, str]:
    return {
        row["endpoint"].removeprefix("pipeline:"): row["status"]
        for row in store.refresh_log.steps(metric_id, run_id)
    }


def test_create_runs_every_step_and_saves_points_transformers_and_chart(
    store, metric, refresh, instance
):
    outcome = refresh(metric, "create")
    assert outcome.success, outcome.error
    assert values(store, metric) == [(d, float(i + 1)) for i, d in enumerate(DAYS)]
    assert store.get_transformer("ingestion", metric) is not None
    assert store.get_transformer("chart", metric) is not None
    assert "vega-lite" in store.get_chart_config(metric)["$schema"]
    steps = statuses(store, metric, outcome.run_id)
    assert list(steps) == list(STEPS)
    assert steps["deleting-old-data"] == steps["deleting-old-transformer"] == "skipped"
    assert {steps[s] for s in STEPS if not s.startswith("deleting")} == {"success"}
    row = store.get_metric(metric)
    assert row["refresh_status"] is None and row["last_error"] is None
    assert row["last_fetched_at"] is not None
    materialized = instance.get_materialized_partitions(dg.AssetKey("metric_points"))
    assert materialized == {metric}
    with store.engine.connect() as conn:
        runs = t.pipeline_runs
        query = sa.select(runs.c.pipeline_name).where(runs.c.run_id == outcome.run_id)
        assert conn.execute(query).scalar_one() == REFRESH_JOB


def test_repeated_refresh_never_duplicates_points(store, metric, refresh):
    assert refresh(metric, "create").success
    assert refresh(metric, "soft-refresh").success
    assert refresh(metric, "create").success
    assert store.count_points(metric) == len(DAYS)


def test_soft_refresh_reuses_the_metrics_transformers(store, metric, refresh):
    refresh(metric, "create")
    code = store.get_transformer("ingestion", metric)
    outcome = refresh(metric, "soft-refresh")
    steps = statuses(store, metric, outcome.run_id)
    assert steps["generating-ingestion-transformer"] == "skipped"
    assert steps["generating-chart-transformer"] == "skipped"
    assert store.get_transformer("ingestion", metric) == code


def test_soft_refresh_of_a_metric_without_transformers_generates_them(store, metric, refresh):
    outcome = refresh(metric, "soft-refresh")
    assert outcome.success, outcome.error
    assert statuses(store, metric, outcome.run_id)["generating-ingestion-transformer"] == "success"
    assert store.get_transformer("ingestion", metric) is not None
    assert store.count_points(metric) == len(DAYS)


def test_hard_refresh_replaces_all_points(store, metric, refresh, payload_file):
    refresh(metric, "create")
    payload_file.write_text(json.dumps(series(["2026-11-01", "2026-11-02"], scale=10)))
    refresh(metric, "soft-refresh")
    assert store.count_points(metric) == len(DAYS) + 2  # soft keeps the old days
    outcome = refresh(metric, "hard-refresh")
    assert outcome.success, outcome.error
    assert values(store, metric) == [("2026-11-01", 10.0), ("2026-11-02", 20.0)]
    assert set(statuses(store, metric, outcome.run_id).values()) == {"success"}


@pytest.mark.parametrize(
    "break_source",
    [
        pytest.param(lambda path: path.unlink(), id="fetch-fails"),
        pytest.param(lambda path: path.write_text('{"status": "ok"}'), id="generation-fails"),
        pytest.param(lambda path: path.write_text("<html>502</html>"), id="not-json"),
    ],
)
def test_failed_hard_refresh_keeps_old_points_and_transformers(
    store, metric, refresh, payload_file, break_source
):
    refresh(metric, "create")
    points_before = store.list_points(metric)
    ingestion_before = store.get_transformer("ingestion", metric)
    chart_before = store.get_transformer("chart", metric)
    break_source(payload_file)
    outcome = refresh(metric, "hard-refresh")
    assert not outcome.success
    assert store.list_points(metric) == points_before
    assert store.get_transformer("ingestion", metric) == ingestion_before
    assert store.get_transformer("chart", metric) == chart_before
    row = store.get_metric(metric)
    assert row["refresh_status"] is None and row["refresh_run_id"] is None
    assert row["last_error"]
    steps = statuses(store, metric, outcome.run_id)
    assert "failed" in steps.values()
    assert steps["saving-timeseries-data"] == "cancelled"


def test_two_metrics_on_one_template_own_independent_transformers(store, tmp_path, refresh):
    for metric_id, scale in (("a", 1), ("b", 100)):
        path = tmp_path / f"{metric_id}.json"
        path.write_text(json.dumps(series(DAYS, scale=scale)))
        store.add_metric(
            metric_id, name=metric_id.upper(), template="file", config={"path": str(path)}
        )
        assert refresh(metric_id, "create").success
    b_code = store.get_transformer("ingestion", "b")
    store.delete_metric("a")
    assert store.get_transformer("ingestion", "a") is None
    assert store.get_transformer("ingestion", "b") == b_code
    assert refresh("b", "soft-refresh").success
    assert values(store, "b")[-1] == (DAYS[-1], 400.0)


def test_refresh_is_refused_while_another_live_run_holds_the_metric(
    store, metric, refresh, instance
):
    holder = instance.add_run(
        dg.DagsterRun(job_name=REFRESH_JOB, status=dg.DagsterRunStatus.STARTED)
    )
    store.refresh_log.begin(
        metric,
        holder.run_id,
        pipeline_name=REFRESH_JOB,
        mode="create",
        plan={s: None for s in STEPS},
        is_run_active=lambda _run: True,
    )
    outcome = refresh(metric, "create")
    assert not outcome.success
    assert "being refreshed by run" in outcome.error
    assert store.count_points(metric) == 0
    assert store.get_metric(metric)["refresh_run_id"] == holder.run_id
    # Once the holder is gone (crashed, failed), the next refresh takes the metric over.
    instance.report_run_failed(holder)
    assert refresh(metric, "create").success
    assert store.count_points(metric) == len(DAYS)


def test_progress_shows_the_steps_in_order_during_and_after_a_run(store, refresh, instance):
    with json_server() as server:
        server.routes["/series"] = (200, series(DAYS))
        server.hold = threading.Event()
        store.add_metric(
            "live", name="Live", template="http-json", config={"url": f"{server.base_url}/series"}
        )
        result = {}
        thread = threading.Thread(target=lambda: result.update(outcome=refresh("live", "create")))
        thread.start()
        deadline = time.monotonic() + 30
        progress = None
        while time.monotonic() < deadline:
            progress = progress_answer(
                store.refresh_log.progress("live", is_run_active=run_is_active(instance, store))
            )
            if progress.get("currentStep") == "fetching-api-data":
                break
            time.sleep(0.05)
        assert progress is not None
        assert progress["isProcessing"] is True
        assert progress["currentStep"] == "fetching-api-data"
        # A create run's steps, as the front end reads them while it runs.
        assert [(step["step"], step["status"]) for step in progress["completedSteps"]] == [
            (f"pipeline:{step}", "running" if step == "fetching-api-data" else "pending")
            for step in STEPS
            if not step.startswith("deleting-")
        ]
        assert store.get_metric("live")["refresh_status"] == "fetching-api-data"
        server.hold.set()
        thread.join(timeout=60)
    assert result["outcome"].success, result["outcome"].error
    messages = [entry.user_message for entry in instance.all_logs(result["outcome"].run_id)]
    # Each step announces itself in the run's log with the name the product shows.
    assert "Fetching API data... (fetching-api-data, metric live)" in messages
    assert "Saving chart config... (saving-chart-config, metric live)" in messages
    progress = progress_answer(
        store.refresh_log.progress("live", is_run_active=run_is_active(instance, store))
    )
    assert progress["isProcessing"] is False and progress["error"] is None
    assert progress["completedSteps"] == []  # the contract: steps only while a run is active
    run_id = progress["runId"]
    assert [row["endpoint"] for row in store.refresh_log.steps("live", run_id)] == [
        f"pipeline:{step}" for step in STEPS
    ]
    assert store.get_metric("live")["refresh_status"] is None


def test_the_assets_materialize_for_one_partition_as_a_notebook_would(
    store, metric, definitions, instance
):
    from orbit_dagster.defs.metrics.assets import metric_refresh

    ensure_metric_partitions(instance, [metric])
    result = dg.materialize(
        [metric_refresh],
        partition_key=metric,
        instance=instance,
        resources=definitions.resources,
        run_config=refresh_run_config("create"),
    )
    assert result.success
    assert values(store, metric) == [(d, float(i + 1)) for i, d in enumerate(DAYS)]
    assert instance.get_materialized_partitions(dg.AssetKey("metric_chart")) == {metric}
