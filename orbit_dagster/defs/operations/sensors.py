"""`run_failure_sensor`: every failed run is recorded in the Orbit store and announced;
`interrupted_runs_sensor`: every minute, runs whose processes died are failed and their
metrics released (`dagster_api.recover`), so nothing waits for the next refresh to notice.

It writes the run into `pipeline_runs` (and `last_error` of the metrics it covered) for what
the steps themselves could not record — a run refused, killed or misconfigured — and posts
a JSON alert to `ORBIT_ALERT_WEBHOOK_URL` when set. The webhook is best effort: its failure
is logged and nothing else fails with it.
"""

import dagster as dg

from orbit_dagster.alerts import post_alert
from orbit_dagster.dagster_api.interrupted import recover
from orbit_dagster.defs.metrics.resources import RefreshSettings
from orbit_dagster.defs.resources import OrbitStore
from orbit_dagster.refresh.jobs import run_metric_ids


@dg.run_failure_sensor(
    name="run_failure_sensor",
    description="Records every failed run in the Orbit store (pipeline_runs, metrics.last_error) "
    "and posts a JSON alert to ORBIT_ALERT_WEBHOOK_URL when it is set.",
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def run_failure_sensor(
    context: dg.RunFailureSensorContext,
    orbit_store: OrbitStore,
    refresh_settings: RefreshSettings,
) -> None:
    run = context.dagster_run
    event = context.failure_event
    error = event.message or "the run failed"
    metric_ids = run_metric_ids(run.tags, run.run_config)
    orbit_store.get_store().refresh_log.record_run_failure(
        run.run_id, run.job_name, metric_ids, error
    )
    if not refresh_settings.alert_webhook_url:
        return
    step_failures = context.get_step_failure_events()
    outcome = post_alert(
        refresh_settings.alert_webhook_url,
        {
            "metric_ids": metric_ids,
            "metric_id": metric_ids[0] if len(metric_ids) == 1 else None,
            "run_id": run.run_id,
            "job": run.job_name,
            "step": step_failures[0].step_key if step_failures else None,
            "error": (
                step_failures[0].step_failure_data.error.message.strip()
                if step_failures and step_failures[0].step_failure_data.error
                else error
            ),
            "url": f"{refresh_settings.ui_url.rstrip('/')}/runs/{run.run_id}",
        },
    )
    context.log.info(f"alert for run {run.run_id}: {outcome}")


@dg.sensor(
    name="interrupted_runs_sensor",
    description="Every minute: fails runs whose processes are gone (killed, host lost) though "
    "Dagster still shows them started, and releases the metrics they held, their running "
    "step marked interrupted. `orbit recover` does the same on demand.",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def interrupted_runs_sensor(
    context: dg.SensorEvaluationContext, orbit_store: OrbitStore
) -> dg.SkipReason:
    failed = recover(context.instance, orbit_store.get_store())
    for run in failed:
        context.log.warning(f"run {run.run_id} ({run.job_name}) failed: {run.reason}")
    if not failed:
        return dg.SkipReason("no interrupted run")
    return dg.SkipReason(f"failed {len(failed)} interrupted run(s); their metrics are released")
