"""Data-quality checks of a metric, as plain functions of a `Subject` (its stored points, its
row with the last save's revision record, the time and the default schedule): each returns a
`CheckResult` (passed, severity, one-line description, JSON metadata) that the Dagster asset
checks report per partition and the command prints. No Dagster here."""

from orbit_dagster.quality.checks import (
    CHECKS,
    CheckResult,
    Subject,
    check_finite_values,
    check_fresh,
    check_gaps,
    check_has_points,
    check_jumps,
    check_overlap,
    run_checks,
    subject_now,
)

__all__ = [
    "CHECKS",
    "CheckResult",
    "Subject",
    "check_finite_values",
    "check_fresh",
    "check_gaps",
    "check_has_points",
    "check_jumps",
    "check_overlap",
    "run_checks",
    "subject_now",
]
