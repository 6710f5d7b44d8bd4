"""Data-quality checks of every metric partition of `metric_points`, shown per partition in
the UI: no points and non-finite values (errors), gaps and jumps (warnings). The checks are
the plain functions of `orbit_dagster.quality`; this module declares them to Dagster and
turns their results into Dagster's check events.

A one-partition refresh (`refresh_metric_job`) runs `metric_points_checks` after the points
are saved. A batch run has no per-partition step to run them in, so its op logs the same
evaluations for each metric it refreshed (`check_evaluations`). The chart needs no blocking
check: a refresh whose transformer yields no or non-finite points fails before saving.
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg

from orbit_dagster.defs.metrics.partitions import metric_partitions
from orbit_dagster.defs.resources import OrbitStore
from orbit_dagster.quality import CHECKS, CheckResult, run_checks

POINTS = dg.AssetKey("metric_points")
SEVERITY = {"error": dg.AssetCheckSeverity.ERROR, "warning": dg.AssetCheckSeverity.WARN}


def _summary(check_name: str) -> str:
    doc = CHECKS[check_name].__doc__ or check_name
    return doc.strip().splitlines()[0]


@dg.multi_asset_check(
    specs=[
        # Partitioned checks print a PreviewWarning in Dagster 1.13; they are the only way to
        # record a result per metric (without partitions_def a result records no partition).
        dg.AssetCheckSpec(
            name, asset=POINTS, partitions_def=metric_partitions, description=_summary(name)
        )
        for name in CHECKS
    ],
    description="Data quality of one metric's stored points.",
)
def metric_points_checks(
    context: dg.AssetCheckExecutionContext, orbit_store: OrbitStore
) -> Iterator[dg.AssetCheckResult]:
    points = orbit_store.get_store().list_points(context.partition_key)
    for result in run_checks([point.to_json() for point in points]):
        yield dg.AssetCheckResult(**_outcome(result))


def check_evaluations(
    metric_id: str, points: list[dict[str, Any]]
) -> list[dg.AssetCheckEvaluation]:
    """The same checks of one metric's points (as the store returns them, in JSON form), as
    events an op logs for that partition."""
    return [
        dg.AssetCheckEvaluation(**_outcome(result), partition=metric_id)
        for result in run_checks(points)
    ]


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
