"""`refresh_metric`: refresh one metric partition; run config chooses the mode."""

import dagster as dg

from orbit_dagster.defs.metrics.assets import metric_refresh

refresh_metric = dg.define_asset_job(
    "refresh_metric",
    selection=[metric_refresh],
    description="Refresh one metric (partition = metric id). Run config: "
    "ops: {metric_refresh: {config: {mode: create | soft-refresh | hard-refresh}}}.",
)
