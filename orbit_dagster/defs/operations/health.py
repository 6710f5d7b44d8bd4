"""`pipeline_health`: the health figures of the last day as an asset, materialized every 15
minutes, so the Dagster UI plots each number over time (an asset's numeric metadata is
plotted per materialization). `orbit stats` prints the same figures: both call
`dagster_api.health_figures` (Dagster's run storage and the Orbit store). Its schedule also
sweeps the step outputs that failed runs keep for re-execution, once past their retention."""

import datetime as dt

import dagster as dg

from orbit_dagster.dagster_api import health_figures
from orbit_dagster.defs.metrics.checks import freshness_evaluations
from orbit_dagster.defs.resources import OrbitStore

WINDOW = dt.timedelta(hours=24)
SCHEDULE_INTERVAL = dt.timedelta(minutes=15)


@dg.asset(
    group_name="operations",
    kinds={"python"},
    description="Pipeline health over the last 24 h: per job success rate, runs per hour, "
    "p50/p95 duration; failed and interrupted runs, metrics with errors, stale metrics (as "
    "`orbit stats`). Reports each metric partition's `fresh` check where it changed. "
    "Also sweeps the step outputs failed runs kept for re-execution past their retention.",
    # Dagster's freshness daemon (`freshness: enabled` in deploy/dagster.yaml) marks the health
    # asset late when its schedule stops: then nothing reports metrics going stale either.
    freshness_policy=dg.FreshnessPolicy.time_window(
        fail_window=2 * SCHEDULE_INTERVAL, warn_window=SCHEDULE_INTERVAL + dt.timedelta(minutes=5)
    ),
)
def pipeline_health(
    context: dg.AssetExecutionContext, orbit_store: OrbitStore
) -> dg.MaterializeResult:
    store = orbit_store.get_store()
    # The same schedule sweeps the step outputs that failed runs left for re-execution.
    swept = store.step_outputs.sweep()
    stats = health_figures(context.instance, store, WINDOW)
    # Each metric partition's `fresh` check, where it changed since its last evaluation.
    for evaluation in freshness_evaluations(context.instance, store):
        context.log_event(evaluation)  # pyright: ignore[reportArgumentType]
    metadata: dict[str, dg.RawMetadataValue] = {
        "runs": stats["runs"],
        "failed_runs": len(stats["failed_runs"]),
        # Runs whose process died, found by their heartbeats and failed (then resumable).
        "interrupted_runs": stats["interrupted_runs"],
        "metrics": stats["metrics"],
        "metrics_with_errors": len(stats["metrics_with_errors"]),
        "stale_metrics": len(stats["stale_metrics"]),
        "details": dg.MetadataValue.json(stats),
        "step_outputs_swept": swept,
    }
    # One plottable number per job and figure; a figure with no value yet is left out.
    for job, figures in stats["jobs"].items():
        for figure in ("success_rate", "runs_per_hour", "p50_seconds", "p95_seconds"):
            if figures[figure] is not None:
                metadata[f"{job}/{figure}"] = float(figures[figure])
    return dg.MaterializeResult(metadata=metadata)


pipeline_health_job = dg.define_asset_job(
    "pipeline_health_job",
    selection=[pipeline_health],
    description="Materialize pipeline_health (the figures of the last 24 h).",
)

pipeline_health_schedule = dg.ScheduleDefinition(
    name="pipeline_health_schedule",
    job=pipeline_health_job,
    cron_schedule=f"*/{SCHEDULE_INTERVAL.seconds // 60} * * * *",
    execution_timezone="UTC",
    description="pipeline_health every 15 minutes, so the UI plots its figures over time.",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
