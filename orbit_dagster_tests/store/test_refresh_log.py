"""The refresh lock, step log and progress on both engines (progress as the front end reads it)."""

import pytest

from orbit_dagster.refresh.modes import Mode
from orbit_dagster.refresh.plan import plan
from orbit_dagster.refresh.progress import progress_answer
from orbit_dagster.refresh.table import STEP_NAMES as STEPS
from orbit_dagster.store import MetricBusyError, MetricNotFoundError


def alive(_run_id: str) -> bool:
    return True


def dead(_run_id: str) -> bool:
    return False


@pytest.fixture
def log(store):
    store.add_metric("m", name="M", template="file", config={"path": "p"}, organization="acme")
    return store.refresh_log


def begin(log, run_id: str, mode: Mode = "soft-refresh", active=alive):
    log.begin(
        "m",
        run_id,
        pipeline_name="refresh_metric_job",
        mode=mode,
        plan=plan(mode),
        is_run_active=active,
    )


def test_plan_is_written_in_order_with_skipped_steps(log):
    begin(log, "r1", mode="create")
    rows = log.steps("m", "r1")
    assert [r["endpoint"] for r in rows] == [f"pipeline:{s}" for s in STEPS]
    statuses = {r["endpoint"].split(":")[1]: r["status"] for r in rows}
    assert statuses["deleting-old-data"] == statuses["deleting-old-transformer"] == "skipped"
    assert statuses["fetching-api-data"] == "pending"


def test_second_live_run_is_refused_and_a_dead_holder_is_taken_over(log, store):
    begin(log, "r1")
    with pytest.raises(MetricBusyError, match="being refreshed by run r1"):
        begin(log, "r2")
    begin(log, "r1")  # the holder itself may claim again (each step does)
    begin(log, "r2", active=dead)
    assert store.get_metric("m")["refresh_run_id"] == "r2"
    assert {r["status"] for r in log.steps("m", "r1")} <= {"cancelled", "skipped"}
    assert "interrupted" in store.get_metric("m")["last_error"]


def test_steps_drive_refresh_status_and_completion(log, store):
    begin(log, "r1")
    for step in STEPS[:-1]:
        log.start_step("m", "r1", step)
        assert store.get_metric("m")["refresh_status"] == step
        assert log.finish_step("m", "r1", step, status="success", duration_ms=5) is False
    log.start_step("m", "r1", STEPS[-1])
    assert log.finish_step("m", "r1", STEPS[-1], status="success", duration_ms=5) is True
    metric = store.get_metric("m")
    assert metric["refresh_status"] is None and metric["refresh_run_id"] is None
    assert metric["last_fetched_at"] is not None and metric["last_error"] is None


def test_failure_clears_status_sets_error_and_cancels_the_rest(log, store):
    begin(log, "r1")
    log.start_step("m", "r1", "fetching-api-data")
    log.fail_step("m", "r1", "fetching-api-data", error="boom", duration_ms=3)
    metric = store.get_metric("m")
    assert metric["refresh_status"] is None
    assert metric["last_error"] == "fetching-api-data: boom"
    statuses = [r["status"] for r in log.steps("m", "r1")]
    assert statuses[0] == "failed" and set(statuses[1:]) <= {"cancelled", "skipped"}
    progress = progress_answer(log.progress("m", is_run_active=alive))
    assert progress["isProcessing"] is False and progress["completedSteps"] == []
    assert progress["error"] == "fetching-api-data: boom"


def test_progress_is_per_run_and_scoped_to_the_organization(log):
    begin(log, "r1", mode="hard-refresh")
    log.start_step("m", "r1", "fetching-api-data")
    log.finish_step("m", "r1", "fetching-api-data", status="success", duration_ms=12)
    log.start_step("m", "r1", "deleting-old-data")
    progress = progress_answer(log.progress("m", organization="acme", is_run_active=alive))
    assert progress["isProcessing"] is True
    assert progress["currentStep"] == "deleting-old-data"
    # The contract's words: pipeline:<step>, completed (not success), only the mode's steps.
    assert progress["completedSteps"][:2] == [
        {
            "step": "pipeline:fetching-api-data",
            "displayName": "Fetching API data",
            "status": "completed",
            "durationMs": 12,
        },
        {
            "step": "pipeline:deleting-old-data",
            "displayName": "Deleting old data",
            "status": "running",
            "durationMs": None,
        },
    ]
    statuses = {step["step"]: step["status"] for step in progress["completedSteps"]}
    assert statuses["pipeline:saving-chart-config"] == "pending"
    assert set(statuses.values()) <= {"pending", "running", "completed", "failed", "skipped"}
    with pytest.raises(MetricNotFoundError):
        log.progress("m", organization="other-org", is_run_active=alive)


def test_progress_lists_only_the_steps_of_the_runs_mode(log):
    begin(log, "r1", mode="soft-refresh")
    log.start_step("m", "r1", "fetching-api-data")
    steps = progress_answer(log.progress("m", is_run_active=alive))["completedSteps"]
    assert [step["step"] for step in steps] == [
        f"pipeline:{name}" for name in STEPS if not name.startswith("deleting-")
    ]
    assert [step["status"] for step in steps][:2] == ["running", "pending"]


def test_status_left_by_a_crashed_run_is_not_processing(log):
    begin(log, "r1")
    log.start_step("m", "r1", "fetching-api-data")
    progress = progress_answer(log.progress("m", is_run_active=dead))
    assert progress["isProcessing"] is False and progress["currentStep"] is None
    assert "stopped without finishing" in progress["error"]


def test_a_retry_of_the_same_run_reopens_its_plan(log, store):
    begin(log, "r1")
    log.start_step("m", "r1", "fetching-api-data")
    log.fail_step("m", "r1", "fetching-api-data", error="flaky", duration_ms=1)
    begin(log, "r1")
    assert store.get_metric("m")["refresh_run_id"] == "r1"
    assert log.steps("m", "r1")[0]["status"] == "pending"
