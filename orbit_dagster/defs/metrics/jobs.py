"""The refresh jobs: one metric partition per run, or a batch of metrics per run.

Why a batch job beside the partitioned one: a run costs a process start and a Dagster import
before any work, so refreshing hundreds of metrics one run each wastes most of the time in
start-up. Dagster's single-run backfill over a partition range avoids that, but it records
the whole range as materialized or none of it: one bad metric would fail (or hide) the rest.
`refresh_metrics_batch_job` runs the same plain steps per metric inside one run and logs each
metric's own `AssetMaterialization` (counted in the partition status of `metric_points` and
`metric_chart`), so one bad metric fails only itself. `bench/refresh_many.py` measures it.
"""

import dagster as dg

from orbit_dagster.dagster_api.lineage import REPORTS
from orbit_dagster.defs.metrics.assets import metric_refresh
from orbit_dagster.defs.metrics.ops import refresh_metrics
from orbit_dagster.refresh.jobs import BATCH_JOB, REFRESH_JOB

refresh_metric_job = dg.define_asset_job(
    REFRESH_JOB,
    selection=[metric_refresh],
    description="Refresh one metric (partition = metric id). Run config: "
    "ops: {metric_refresh: {config: {mode: create | soft-refresh | hard-refresh}}}.",
)


@dg.job(
    name=BATCH_JOB,
    description="Refresh a batch of metrics in one run (used by the catalog sensor and the "
    "schedules). Run config: ops: {refresh_metrics: {config: {metric_ids: [...], mode: ...}}}.",
    # Its op logs each metric's materializations itself (`orbit lineage` shows them).
    metadata={REPORTS: dg.MetadataValue.json(["metric_points", "metric_chart"])},
)
def refresh_metrics_batch_job():
    refresh_metrics()
