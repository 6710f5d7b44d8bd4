"""Sensors that let the metrics table drive Dagster: the catalog, and per-metric cron.

`metric_catalog_sensor` keeps one dynamic partition per metric: new metrics get their
partition and exactly one `create` run (in batches), deleted metrics lose their partition.
Its cursor is the catalog's fingerprint (count, newest creation time), so a tick where
nothing changed reads two aggregates and stops. `metric_schedule_sensor` fires each
metric's own cron: it reads the schedules every tick, so a changed schedule takes effect
without a deploy or restart.
"""

import datetime as dt
import json

import dagster as dg
from croniter import croniter

from orbit_dagster.dagster_api import metric_partition_changes, pipeline_entries
from orbit_dagster.defs.metrics.batch_requests import batch_run_requests
from orbit_dagster.defs.metrics.partitions import metric_partitions
from orbit_dagster.defs.metrics.resources import RefreshSettings
from orbit_dagster.defs.resources import OrbitStore
from orbit_dagster.refresh.jobs import BATCH_JOB


@dg.sensor(
    name="metric_catalog_sensor",
    description="Keeps one partition per metric in step with the metrics table: adds new "
    "metrics (and launches one create run for each, in batches) and removes deleted ones.",
    job_name=BATCH_JOB,
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def metric_catalog_sensor(
    context: dg.SensorEvaluationContext,
    orbit_store: OrbitStore,
    refresh_settings: RefreshSettings,
) -> dg.SensorResult | dg.SkipReason:
    store = orbit_store.get_store()
    # SQL readers of the store see what the UI sees, refreshed on every tick.
    assert context.repository_def is not None  # always set when a sensor is evaluated
    store.sync_pipelines(pipeline_entries(context.repository_def, context.instance))
    fingerprint = json.dumps(store.catalog_fingerprint())
    if context.cursor == fingerprint:
        return dg.SkipReason("the metrics table has not changed")
    metric_ids = list(store.metric_schedules())
    # The daemon applies the partition requests before it launches the runs, in one tick.
    new, gone = metric_partition_changes(context.instance, metric_ids)
    return dg.SensorResult(
        run_requests=batch_run_requests(
            new, mode="create", batch_size=refresh_settings.batch_size, key="catalog"
        ),
        dynamic_partitions_requests=[
            *([metric_partitions.build_add_request(new)] if new else []),
            *([metric_partitions.build_delete_request(gone)] if gone else []),
        ],
        cursor=fingerprint,
    )


def due_metrics(
    schedules: dict[str, str | None], after: dt.datetime, until: dt.datetime
) -> list[str]:
    """Metrics whose own cron fires in (after, until]."""
    return [
        metric_id
        for metric_id, cron in schedules.items()
        if cron and croniter(cron, after).get_next(dt.datetime) <= until
    ]


@dg.sensor(
    name="metric_schedule_sensor",
    description="Refreshes (soft) each metric that has its own cron `schedule`, at that time "
    "(UTC), in batches. Reads the schedules every tick: changes apply without a restart.",
    job_name=BATCH_JOB,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def metric_schedule_sensor(
    context: dg.SensorEvaluationContext,
    orbit_store: OrbitStore,
    refresh_settings: RefreshSettings,
) -> dg.SensorResult:
    now = dt.datetime.now(dt.UTC)
    # The first tick starts the clock: schedules fire from now on, never retroactively.
    after = dt.datetime.fromisoformat(context.cursor) if context.cursor else now
    due = due_metrics(orbit_store.get_store().metric_schedules(), after, now)
    return dg.SensorResult(
        run_requests=batch_run_requests(
            due,
            mode="soft-refresh",
            batch_size=refresh_settings.batch_size,
            key=f"cron:{now.isoformat()}",
        ),
        cursor=now.isoformat(),
    )
