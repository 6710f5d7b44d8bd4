"""The pipeline_health asset over real runs: one refresh that succeeded, one that failed."""

import datetime as dt
import json

import dagster as dg

from orbit_dagster.dagster_api import run_refresh
from orbit_dagster.store import Store
from orbit_dagster.store import schema as t


def test_pipeline_health_materializes_the_figures_of_real_runs(
    definitions, instance, orbit_env, tmp_path
):
    store = Store(orbit_env)
    good = tmp_path / "good.json"
    good.write_text(json.dumps([{"date": "2026-10-01", "value": 1}]))
    store.add_metric("good", name="Good", template="file", config={"path": str(good)})
    store.add_metric("bad", name="Bad", template="file", config={"path": str(tmp_path / "no")})
    assert run_refresh(definitions, instance, "good", "create").success
    assert not run_refresh(definitions, instance, "bad", "create").success

    result = definitions.resolve_job_def("pipeline_health_job").execute_in_process(
        instance=instance
    )
    assert result.success
    [materialization] = result.asset_materializations_for_node("pipeline_health")
    metadata = {key: value.value for key, value in materialization.metadata.items()}
    # The two refreshes and this health run itself, still going.
    assert metadata["runs"] == 3 and metadata["failed_runs"] == 1
    assert metadata["metrics"] == 2 and metadata["metrics_with_errors"] == 1
    assert metadata["refresh_metric_job/success_rate"] == 0.5
    assert metadata["refresh_metric_job/p95_seconds"] > 0
    details = metadata["details"]
    assert details["metrics_with_errors"] == ["bad"]
    assert details["failed_runs"][0]["job"] == "refresh_metric_job"
    # The reason the step gave, not Dagster's run-level "Execution of run ... failed".
    assert details["failed_runs"][0]["error"].endswith("/no does not exist")
    assert details["jobs"]["pipeline_health_job"]["runs"] == 1
    schedule = definitions.resolve_schedule_def("pipeline_health_schedule")
    assert schedule.cron_schedule == "*/15 * * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_pipeline_health_sweeps_step_outputs_past_their_retention(definitions, instance, orbit_env):
    store = Store(orbit_env)
    step = "metric_refresh.fetch_api_data"
    store.step_outputs.save("old-failed-run", step, "result", b"{}")
    store.step_outputs.save("recent-failed-run", step, "result", b"{}")
    with store.engine.begin() as conn:
        conn.execute(
            t.step_outputs.update()
            .where(t.step_outputs.c.run_id == "old-failed-run")
            .values(created_at=dt.datetime(2000, 1, 1))
        )
    result = definitions.resolve_job_def("pipeline_health_job").execute_in_process(
        instance=instance
    )
    [materialization] = result.asset_materializations_for_node("pipeline_health")
    assert materialization.metadata["step_outputs_swept"].value == 1
    assert store.step_outputs.load("old-failed-run", step, "result") is None
    assert store.step_outputs.load("recent-failed-run", step, "result") == b"{}"
