"""Data-quality checks of a metric's stored series, as plain functions of its points: each
returns a `CheckResult` (passed, severity, one-line description, JSON metadata) that the
Dagster asset checks report per partition and the command prints. No Dagster here."""

from orbit_dagster.quality.checks import (
    CHECKS,
    CheckResult,
    check_finite_values,
    check_gaps,
    check_has_points,
    check_jumps,
    run_checks,
)

__all__ = [
    "CHECKS",
    "CheckResult",
    "check_finite_values",
    "check_gaps",
    "check_has_points",
    "check_jumps",
    "run_checks",
]
