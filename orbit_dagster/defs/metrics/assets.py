"""The metric refresh as one graph-backed multi-asset, partitioned per metric id.

`metric_points` (the stored time series) and `metric_chart` (its Vega-Lite config) come
from one graph of the nine named step ops. One graph rather than two assets because the
chart is made from the points the same run saved, the mode is chosen once for both, and a
refresh is one unit in the UI: it is not subsettable. The ops' real outputs go to the
Orbit store, so the asset outputs are `Nothing` (which also lets one run cover a range of
partitions later).
"""

import dagster as dg

from orbit_dagster.dagster_api.lineage import TABLE_NAME
from orbit_dagster.defs.metrics import ops
from orbit_dagster.defs.metrics.partitions import metric_partitions
from orbit_dagster.defs.metrics.sources import source_key
from orbit_dagster.refresh.jobs import REFRESH_ASSET
from orbit_dagster.sources.templates import SYSTEMS


@dg.config_mapping
def refresh_config(config: ops.RefreshConfig) -> dict:
    """Run config `ops: {metric_refresh: {config: {mode: ...}}}` reaches the first step."""
    return {ops.fetch_api_data.name: {"config": {"mode": config.mode}}}


def _refresh_graph() -> dg.AssetsDefinition:
    """The graph-backed asset, built in a function to keep its long body readable."""

    @dg.graph_multi_asset(
        name=REFRESH_ASSET,
        # The external systems the points are read from: the graph's lineage, nothing loaded.
        ins={
            system: dg.AssetIn(key=source_key(system), dagster_type=dg.Nothing)
            for system in SYSTEMS
        },
        outs={
            "metric_points": dg.AssetOut(
                description="A metric's time series in the Orbit store (one partition per metric).",
                kinds={"python", "sql"},
                metadata={TABLE_NAME: "metric_data_points"},
            ),
            "metric_chart": dg.AssetOut(
                description="A metric's chart config (Vega-Lite v5) in the Orbit store.",
                kinds={"python", "sql"},
                metadata={TABLE_NAME: "chart_configs"},
            ),
        },
        partitions_def=metric_partitions,
        config=refresh_config,
        group_name="metrics",
    )
    def metric_refresh(files, http, github, googlesheets):  # one per key of SYSTEMS
        fetched = ops.fetch_api_data(sources=[files, http, github, googlesheets])
        state = ops.generate_ingestion_transformer(
            ops.delete_old_transformer(ops.delete_old_data(fetched))
        )
        points, state = ops.save_timeseries_data(ops.execute_ingestion_transformer(state))
        chart = ops.save_chart_config(
            ops.execute_chart_transformer(ops.generate_chart_transformer(state))
        )
        return {"metric_points": points, "metric_chart": chart}

    return metric_refresh


metric_refresh = _refresh_graph()
