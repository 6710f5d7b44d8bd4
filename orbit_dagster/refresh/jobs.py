"""The refresh jobs' shared facts: their names, the metric partitions, the run config each takes.

Written once here, without Dagster, and read by the wiring (`defs/metrics`), the failure
sensor, the `orbit` command and the tests, so a renamed job or a moved config key changes in
one place. Each run-config builder has its parser beside it.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from orbit_dagster.refresh.modes import Mode

# One metric partition per run (the graph-backed asset), or a batch of metrics per run.
REFRESH_JOB = "refresh_metric_job"
BATCH_JOB = "refresh_metrics_batch_job"
# The dynamic partitions: one key per metric id.
METRIC_PARTITIONS = "metric"
# The graph-backed asset whose config takes the mode, and the batch job's one op.
REFRESH_ASSET = "metric_refresh"
BATCH_OP = "refresh_metrics"
# Dagster's own run tag for a one-partition run; Orbit's tags on batch runs.
PARTITION_TAG = "dagster/partition"
MODE_TAG = "orbit/mode"
BATCH_TAG = "orbit/batch"


def refresh_run_config(mode: Mode) -> dict[str, Any]:
    """Run config of `refresh_metric_job` (the metric is the run's partition)."""
    return {"ops": {REFRESH_ASSET: {"config": {"mode": mode}}}}


def batch_run_config(metric_ids: Sequence[str], mode: Mode) -> dict[str, Any]:
    """Run config of `refresh_metrics_batch_job`: the metrics, in order, and the mode."""
    return {"ops": {BATCH_OP: {"config": {"metric_ids": list(metric_ids), "mode": mode}}}}


def batch_config(run_config: Mapping[str, Any]) -> dict[str, Any]:
    """The batch op's config out of a run config (`{}` for a run of another job)."""
    return dict(run_config.get("ops", {}).get(BATCH_OP, {}).get("config", {}))


def run_metric_ids(tags: Mapping[str, str], run_config: Mapping[str, Any]) -> list[str]:
    """The metrics a run covers: its partition, or the ids of a batch run's config."""
    partition = tags.get(PARTITION_TAG)
    if partition:
        return [partition]
    return list(batch_config(run_config).get("metric_ids", []))
