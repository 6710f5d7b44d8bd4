"""`run_failure_sensor`: a failed run is recorded in the store and announced to a webhook."""

import dagster as dg
import pytest

from orbit_dagster.dagster_api import run_refresh
from orbit_dagster.defs.operations.sensors import run_failure_sensor
from orbit_dagster.refresh.jobs import REFRESH_JOB
from orbit_dagster.refresh.plan import plan
from orbit_dagster_tests.defs.metric_batches import add, good_file, resources, run_batch, store
from orbit_dagster_tests.servers import json_server

__all__ = ["good_file", "store"]  # fixtures used by the tests below


@pytest.mark.parametrize("webhook_status", [200, 500])
def test_failure_sensor_records_the_run_and_posts_an_alert(
    store, good_file, definitions, instance, orbit_env, webhook_status
):
    add(store, "m", good_file)
    result = run_batch(definitions, instance, ["m", "ghost"])
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
    with json_server() as server:
        server.routes["/hook"] = ([webhook_status], {"ok": True})
        context = failure_context(instance, run, failure, orbit_env, f"{server.base_url}/hook")
        run_failure_sensor(context)  # never raises, whatever the webhook answers
    alerts = server.posted
    assert len(alerts) == (1 if webhook_status == 200 else 3)  # 5xx is retried, bounded
    assert alerts[0]["run_id"] == result.run_id
    assert alerts[0]["metric_ids"] == ["m", "ghost"]
    assert alerts[0]["url"].endswith(f"/runs/{result.run_id}")
    assert "ghost" in alerts[0]["error"]
    assert store.get_metric("m")["last_error"] is None  # m itself succeeded in that run


def failure_context(instance, run, failure, store_url, webhook=None):
    return dg.build_run_status_sensor_context(
        sensor_name="run_failure_sensor",
        dagster_instance=instance,
        dagster_run=run,
        dagster_event=failure,
        resources=resources(store_url, alert_webhook_url=webhook),
    ).for_run_failure()


def test_failure_sensor_records_a_run_refused_before_any_step(
    store, good_file, definitions, instance, orbit_env
):
    add(store, "m", good_file)
    holder = instance.add_run(
        dg.DagsterRun(job_name=REFRESH_JOB, status=dg.DagsterRunStatus.STARTED)
    )
    store.refresh_log.begin(
        "m",
        holder.run_id,
        pipeline_name=REFRESH_JOB,
        mode="create",
        plan=plan("create"),
        is_run_active=lambda _r: True,
    )
    outcome = run_refresh(definitions, instance, "m", "create")
    assert not outcome.success
    run = instance.get_run_by_id(outcome.run_id)
    failure = next(
        e
        for e in instance.all_logs(outcome.run_id)
        if e.dagster_event and e.dagster_event.event_type == dg.DagsterEventType.RUN_FAILURE
    ).dagster_event
    run_failure_sensor(failure_context(instance, run, failure, orbit_env))
    with store.engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT status, error FROM pipeline_runs WHERE run_id = ?"
            if store.engine.dialect.name == "sqlite"
            else "SELECT status, error FROM pipeline_runs WHERE run_id = %s",
            (outcome.run_id,),
        ).one()
    assert row.status == "failed"
    # The metric stays with the run that holds it: its error is not overwritten.
    assert store.get_metric("m")["refresh_run_id"] == holder.run_id
