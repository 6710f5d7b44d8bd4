"""Data-quality checks of every metric partition of `metric_points`, shown per partition in
the UI: no points and non-finite values (errors), gaps and jumps (warnings). The checks are
the plain functions of `orbit_dagster.quality`; this module declares them to Dagster and
turns their results into Dagster's check events.

A one-partition refresh (`refresh_metric_job`) runs `metric_points_checks` after the points
are saved. A batch run has no per-partition step to run them in, so its op logs the same
evaluations for each metric it refreshed (`check_evaluations`), each pointing at the
materialization it checks: the UI shows a partition's check state only while its latest
evaluation targets the partition's latest materialization, and clears it otherwise. The chart
needs no blocking check: a refresh whose transformer yields no or non-finite points fails
before saving.
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
from orbit_dagster.quality import CHECKS, CheckResult, run_checks

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
    points = orbit_store.get_store().list_points(context.partition_key)
    for result in run_checks([point.to_json() for point in points]):
        yield dg.AssetCheckResult(**_outcome(result))


def check_evaluations(
    instance: dg.DagsterInstance, metric_id: str, points: list[dict[str, Any]]
) -> list[dg.AssetCheckEvaluation]:
    """The same checks of one metric's points (as the store returns them, in JSON form), as
    events an op logs for that partition once it has logged the partition's materialization.
    """
    target = _latest_materialization(instance, metric_id)
    return [
        dg.AssetCheckEvaluation(
            **_outcome(result), partition=metric_id, target_materialization_data=target
        )
        for result in run_checks(points)
    ]


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
