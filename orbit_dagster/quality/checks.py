"""The checks of one metric: its stored series, what its last save changed, its freshness.

Points are the store's JSON form: `date` (ISO 8601 UTC), `value`, `dimensions` (None or an
object); each series (one set of dimensions) is checked on its own, since a gap or a jump in
one region says nothing about another. The metric row carries the last save's revision record
(`quality.revisions`) and the refresh times the freshness is judged from."""

import datetime as dt
import math
import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from orbit_dagster import settings
from orbit_dagster.quality import revisions
from orbit_dagster.quality.freshness import STALE_INTERVALS, staleness

Severity = Literal["error", "warning"]
# A gap counts when it is longer than this many times the series' usual spacing: a
# business-day series (weekends are 3 days over a 1-day spacing) is not flagged every week.
GAP_FACTOR = 3.0
# A latest value this many times above (or below 1/this of) the median of the values before
# it is a jump worth a look: a unit change, a doubled count, a lost decimal point.
JUMP_FACTOR = 10.0
JUMP_WINDOW = 10  # values before the latest that make its "recent median"
SHOWN = 5  # offending items listed in a check's metadata


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    severity: Severity
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)


Points = list[dict[str, Any]]


@dataclass(frozen=True)
class Subject:
    """What the checks of one metric look at."""

    points: Points
    metric: Mapping[str, Any]
    now: dt.datetime
    # The refresh schedule of metrics without their own (`settings.refresh_cron()`).
    default_cron: str
    # A refresh the metric row does not show yet: the run that checks its own save.
    refreshed_at: dt.datetime | None = None


def subject_now(points: Points, metric: Mapping[str, Any], *, just_saved: bool = False) -> Subject:
    """The metric's subject at this moment, on the default refresh schedule of this process
    (`ORBIT_REFRESH_CRON`); `just_saved`: the caller is the run that has just saved the
    points, the refresh its freshness counts from."""
    now = dt.datetime.now(dt.UTC)
    return Subject(
        points=points,
        metric=metric,
        now=now,
        default_cron=settings.refresh_cron(),
        refreshed_at=now if just_saved else None,
    )


def check_has_points(subject: Subject) -> CheckResult:
    """Error: a metric with no points has nothing to chart."""
    count = len(subject.points)
    return CheckResult(
        "has_points",
        count > 0,
        "error",
        f"{count} points stored" if count else "no points stored",
        {"points": count},
    )


def check_finite_values(subject: Subject) -> CheckResult:
    """Error: every value is a finite number (the store refuses others; this proves it)."""
    points = subject.points
    bad = [p for p in points if not _is_finite_number(p.get("value"))]
    return CheckResult(
        "finite_values",
        not bad,
        "error",
        f"{len(bad)} of {len(points)} values are not finite numbers"
        if bad
        else "every value is a finite number",
        {"bad_values": len(bad), "examples": [_label(p) for p in bad[:SHOWN]]},
    )


def check_gaps(subject: Subject, factor: float = GAP_FACTOR) -> CheckResult:
    """Warning: a series missing dates, i.e. a step longer than `factor` × its usual step."""
    gaps = []
    for dimensions, dates in _series_dates(subject.points):
        steps = [(later - earlier) for earlier, later in zip(dates, dates[1:], strict=False)]
        if len(steps) < 2:
            continue
        usual = dt.timedelta(seconds=statistics.median(step.total_seconds() for step in steps))
        if usual <= dt.timedelta(0):
            continue
        gaps += [
            (step, dates[index], dates[index + 1], dimensions, usual)
            for index, step in enumerate(steps)
            if step > usual * factor
        ]
    gaps.sort(key=lambda gap: gap[0], reverse=True)
    shown = [
        f"{_iso(start)} → {_iso(end)}{_series_label(dims)} ({_duration(step)}, usually "
        f"{_duration(usual)})"
        for step, start, end, dims, usual in gaps[:SHOWN]
    ]
    return CheckResult(
        "no_gaps",
        not gaps,
        "warning",
        f"{len(gaps)} gaps longer than {factor:g}× the series' usual spacing; longest: {shown[0]}"
        if gaps
        else "no gaps longer than the usual spacing",
        {"gaps": len(gaps), "longest": shown},
    )


def check_jumps(
    subject: Subject, factor: float = JUMP_FACTOR, window: int = JUMP_WINDOW
) -> CheckResult:
    """Warning: a latest value far off the median of the values just before it."""
    jumps = []
    for dimensions, series in _series_points(subject.points):
        values = [p["value"] for p in series]
        if len(values) < 3:
            continue
        latest, recent = values[-1], statistics.median(values[-window - 1 : -1])
        low, high = sorted((abs(latest), abs(recent)))
        if high > 0 and (low == 0 or high / low > factor):
            jumps.append(
                f"{series[-1]['date']}{_series_label(dimensions)}: {latest:g} against a recent "
                f"median of {recent:g}"
            )
    return CheckResult(
        "no_jumps",
        not jumps,
        "warning",
        f"{len(jumps)} series jumped beyond {factor:g}× their recent median: {jumps[0]}"
        if jumps
        else f"no latest value beyond {factor:g}× its recent median",
        {"jumps": len(jumps), "examples": jumps[:SHOWN]},
    )


def check_overlap(subject: Subject) -> CheckResult:
    """Warning: the last save changed values the metric already had (a revised history)."""
    revision = subject.metric.get("last_revision")
    if revision is None:
        return CheckResult("overlap_agrees", True, "warning", "no save recorded yet", {})
    return CheckResult(
        "overlap_agrees",
        revision["changed"] == 0,
        "warning",
        revisions.describe(revision),
        {key: revision[key] for key in ("compared", "changed", "examples", "run_id")},
    )


def check_fresh(subject: Subject) -> CheckResult:
    """Warning: no successful refresh within two intervals of the metric's schedule."""
    state = staleness(
        subject.metric,
        default_cron=subject.default_cron,
        now=subject.now,
        refreshed_at=subject.refreshed_at,
    )
    if state.since is None:
        last = "never refreshed"
    elif state.ever_refreshed:
        last = f"last refreshed {_iso(state.since)}"
    else:
        last = f"never refreshed (added {_iso(state.since)})"
    return CheckResult(
        "fresh",
        not state.stale,
        "warning",
        f"{last}; stale after {STALE_INTERVALS} × {_duration(state.interval)} ({state.cron})"
        if state.stale
        else f"{last}, within {STALE_INTERVALS} × {_duration(state.interval)} ({state.cron})",
        {
            "last_refreshed": _iso(state.since) if state.ever_refreshed and state.since else None,
            "schedule": state.cron,
            "interval_seconds": state.interval.total_seconds(),
        },
    )


CHECKS: dict[str, Callable[[Subject], CheckResult]] = {
    "has_points": check_has_points,
    "finite_values": check_finite_values,
    "no_gaps": check_gaps,
    "no_jumps": check_jumps,
    "overlap_agrees": check_overlap,
    "fresh": check_fresh,
}


def run_checks(subject: Subject) -> list[CheckResult]:
    """Every check of the metric, in the order of CHECKS."""
    return [check(subject) for check in CHECKS.values()]


def _series_points(points: Points) -> Iterable[tuple[tuple, Points]]:
    """(dimensions, points in date order) per series."""
    by_series: dict[tuple, Points] = {}
    for point in points:
        key = tuple(sorted((point.get("dimensions") or {}).items()))
        by_series.setdefault(key, []).append(point)
    for key, series in by_series.items():
        yield key, sorted(series, key=lambda p: p["date"])


def _series_dates(points: Points) -> Iterable[tuple[tuple, list[dt.datetime]]]:
    for key, series in _series_points(points):
        yield key, [dt.datetime.fromisoformat(p["date"]) for p in series]


def _is_finite_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _label(point: dict[str, Any]) -> str:
    return f"{point.get('date')}: {point.get('value')!s:.40}"


def _series_label(dimensions: tuple) -> str:
    return f" [{', '.join(f'{k}={v}' for k, v in dimensions)}]" if dimensions else ""


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _duration(step: dt.timedelta) -> str:
    days = step / dt.timedelta(days=1)
    return f"{days:.3g} days" if days >= 1 else f"{days * 24:.3g} hours"
