"""The default refresh schedule: a soft refresh of every metric without a cron of its own.

Its cron is `ORBIT_REFRESH_CRON` (default hourly, UTC), read when the code location loads.
Metrics with their own `schedule` are left to `metric_schedule_sensor`, so none is
refreshed at a time other than its own.
"""

import dagster as dg

from orbit_dagster import settings
from orbit_dagster.defs.metrics.batch_requests import batch_run_requests
from orbit_dagster.defs.metrics.resources import RefreshSettings
from orbit_dagster.defs.resources import OrbitStore
from orbit_dagster.refresh.jobs import BATCH_JOB


@dg.definitions
def schedules() -> dg.Definitions:
    cron = settings.refresh_cron()

    @dg.schedule(
        name="default_refresh_schedule",
        description=f"Soft refresh of every metric without its own schedule ({cron}, UTC; "
        "ORBIT_REFRESH_CRON), in batches of refresh_metrics_batch_job runs.",
        cron_schedule=cron,
        execution_timezone="UTC",
        job_name=BATCH_JOB,
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    def default_refresh_schedule(
        context: dg.ScheduleEvaluationContext,
        orbit_store: OrbitStore,
        refresh_settings: RefreshSettings,
    ) -> list[dg.RunRequest] | dg.SkipReason:
        schedules = orbit_store.get_store().metric_schedules()
        metric_ids = [metric_id for metric_id, own_cron in schedules.items() if not own_cron]
        if not metric_ids:
            return dg.SkipReason("no metric follows the default schedule")
        return batch_run_requests(
            metric_ids,
            mode="soft-refresh",
            batch_size=refresh_settings.batch_size,
            key=f"default:{context.scheduled_execution_time.isoformat()}",
        )

    return dg.Definitions(schedules=[default_refresh_schedule])
