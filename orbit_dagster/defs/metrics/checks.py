"""Data-quality checks of every metric partition of `metric_points`, shown per partition in
the UI: no points and non-finite values (errors); gaps, jumps, stored values the last save
changed, and staleness (warnings). The checks are the plain functions of
`orbit_dagster.quality`; this module declares them to Dagster and turns their results into
Dagster's check events.

A one-partition refresh (`refresh_metric_job`) runs `metric_points_checks` after the points
are saved. A batch run has no per-partition step to run them in, so its op logs the same
evaluations for each metric it refreshed (`check_evaluations`), each pointing at the
materialization it checks: the UI shows a partition's check state only while its latest
evaluation targets the partition's latest materialization, and clears it otherwise. A metric
goes stale when nothing runs for it, so `pipeline_health` (every 15 minutes) reports `fresh`
for the metrics whose freshness changed since their last evaluation (`freshness_evaluations`).
The chart needs no blocking check: a refresh whose transformer yields no or non-finite points
fails before saving.
"""

import warnings
from collections.abc import Iterator
from typing import Any

import dagster as dg

# The type of `dg.AssetCheckEvaluation`'s documented `target_materialization_data` argument;
# Dagster 1.13 does not re-export it. It is what makes a logged evaluation count as the check
# of the latest materialization (Dagster's own AssetCheckResult fills it the same way).
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)

from orbit_dagster.defs.metrics.partitions import metric_partitions
from orbit_dagster.defs.resources import OrbitStore
from orbit_dagster.quality import CHECKS, CheckResult, Subject, check_fresh, run_checks, subject_now
from orbit_dagster.store import Store

POINTS = dg.AssetKey("metric_points")
SEVERITY = {"error": dg.AssetCheckSeverity.ERROR, "warning": dg.AssetCheckSeverity.WARN}


def _summary(check_name: str) -> str:
    doc = CHECKS[check_name].__doc__ or check_name
    return doc.strip().splitlines()[0]


def _partitioned_specs() -> list[dg.AssetCheckSpec]:
    """One spec per check, partitioned like the metrics. Partitioned checks are the only way
    to record a result per metric (without partitions_def a result records no partition);
    Dagster 1.13 prints a PreviewWarning for each, silenced here and only here, by its text.
    (The folder loader hides it; the metric-only loader of `orbit refresh` would print it.)"""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message="Specifying a partitions_def on an AssetCheckSpec",
            category=dg.PreviewWarning,
        )
        return [
            dg.AssetCheckSpec(
                name, asset=POINTS, partitions_def=metric_partitions, description=_summary(name)
            )
            for name in CHECKS
        ]


@dg.multi_asset_check(
    specs=_partitioned_specs(),
    description="Data quality of one metric's stored points.",
)
def metric_points_checks(
    context: dg.AssetCheckExecutionContext, orbit_store: OrbitStore
) -> Iterator[dg.AssetCheckResult]:
    store = orbit_store.get_store()
    points = [point.to_json() for point in store.list_points(context.partition_key)]
    for result in run_checks(just_saved(store, context.partition_key, points)):
        yield dg.AssetCheckResult(**_outcome(result))


def just_saved(store: Store, metric_id: str, points: list[dict[str, Any]]) -> Subject:
    """The checks' subject in the run that has just saved the metric's points (as the store
    returns them, in JSON form): its save is the refresh the freshness counts from."""
    return subject_now(points, store.get_metric(metric_id), just_saved=True)


def check_evaluations(
    instance: dg.DagsterInstance, store: Store, metric_id: str, points: list[dict[str, Any]]
) -> list[dg.AssetCheckEvaluation]:
    """The same checks of one metric, as events an op logs for that partition once it has
    logged the partition's materialization."""
    target = _latest_materialization(instance, metric_id)
    return [
        dg.AssetCheckEvaluation(
            **_outcome(result), partition=metric_id, target_materialization_data=target
        )
        for result in run_checks(just_saved(store, metric_id, points))
    ]


def freshness_evaluations(
    instance: dg.DagsterInstance, store: Store
) -> list[dg.AssetCheckEvaluation]:
    """`fresh` for each metric whose freshness differs from what the UI shows for it: a metric
    gone stale (or found fresh again, say after its schedule changed) since its last
    evaluation. A metric with no evaluation yet gets one only when stale: its first refresh
    records it otherwise. Unchanged metrics log nothing, so a tick costs events only for
    what changed."""
    metrics = {metric["id"]: metric for metric in store.list_metrics()}
    if not metrics:
        return []
    key = dg.AssetCheckKey(POINTS, "fresh")
    shown = {
        info.partition_key: info.latest_execution_status.value
        for info in instance.event_log_storage.get_asset_check_partition_info(
            [key], partition_keys=list(metrics)
        )
        if info.is_current
    }
    evaluations = []
    for metric_id, metric in metrics.items():
        result = check_fresh(subject_now([], metric))
        was_failing = shown.get(metric_id) == "FAILED"
        if result.passed == was_failing:
            evaluations.append(
                dg.AssetCheckEvaluation(
                    **_outcome(result),
                    partition=metric_id,
                    target_materialization_data=_latest_materialization(instance, metric_id),
                )
            )
    return evaluations


def _latest_materialization(
    instance: dg.DagsterInstance, metric_id: str
) -> AssetCheckEvaluationTargetMaterializationData | None:
    """The partition's latest materialization of `metric_points`, as the check's target (what
    Dagster records for a check run in a one-partition step)."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=POINTS, asset_partitions=[metric_id]), limit=1
    ).records
    if not records:
        return None
    return AssetCheckEvaluationTargetMaterializationData(
        storage_id=records[0].storage_id,
        run_id=records[0].run_id,
        timestamp=records[0].timestamp,
    )


def _outcome(result: CheckResult) -> dict[str, Any]:
    """What a check result and a check evaluation share."""
    return {
        "asset_key": POINTS,
        "check_name": result.name,
        "passed": result.passed,
        "severity": SEVERITY[result.severity],
        "description": result.description,
        "metadata": result.metadata,
    }
