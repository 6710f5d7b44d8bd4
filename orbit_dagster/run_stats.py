"""Pipeline health in numbers: per job success rate, runs per hour and p50/p95 duration over a
window, the failed runs, the metrics whose last refresh failed and the metrics gone stale.

Plain data in, JSON-ready data out: the `pipeline_health` asset and `orbit stats` read runs
from Dagster's run storage and metrics from the Orbit store, and both hand them to
`pipeline_stats`, so the UI's plots and the command's table are the same numbers.
"""

import datetime as dt
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from orbit_dagster.quality.freshness import staleness

FAILED_SHOWN = 20


@dataclass(frozen=True)
class RunSummary:
    """One Dagster run as the figures need it (times UTC; None while not started/ended)."""

    run_id: str
    job_name: str
    status: str  # Dagster's run status name: SUCCESS, FAILURE, CANCELED, STARTED, ...
    start: dt.datetime | None
    end: dt.datetime | None
    error: str | None = None
    # Failed by Orbit because its process died (its heartbeats stopped), not by a step.
    interrupted: bool = False


def pipeline_stats(
    runs: Iterable[RunSummary],
    metrics: Sequence[Mapping[str, Any]],
    *,
    since: dt.datetime,
    now: dt.datetime,
    default_cron: str,
) -> dict[str, Any]:
    """The health figures of the runs that started in [since, now) and of every metric."""
    hours = max((now - since).total_seconds() / 3600, 1e-9)
    in_window = [run for run in runs if run.start is not None and since <= run.start < now]
    jobs: dict[str, list[RunSummary]] = {}
    for run in in_window:
        jobs.setdefault(run.job_name, []).append(run)
    failed = sorted(
        (run for run in in_window if run.status == "FAILURE"),
        key=lambda run: run.start or since,
        reverse=True,
    )
    return {
        "since": _iso(since),
        "until": _iso(now),
        "runs": len(in_window),
        "jobs": {name: _job_figures(job_runs, hours) for name, job_runs in sorted(jobs.items())},
        "failed_runs": [
            {
                "run_id": run.run_id,
                "job": run.job_name,
                "started": _iso(run.start),
                "error": run.error,
            }
            for run in failed[:FAILED_SHOWN]
        ],
        "interrupted_runs": sum(1 for run in in_window if run.interrupted),
        "metrics": len(metrics),
        "metrics_with_errors": sorted(m["id"] for m in metrics if m.get("last_error")),
        "stale_metrics": stale_metrics(metrics, default_cron=default_cron, now=now),
    }


def stale_metrics(
    metrics: Sequence[Mapping[str, Any]], *, default_cron: str, now: dt.datetime
) -> list[str]:
    """Ids of the metrics with no successful refresh within STALE_INTERVALS of their cron
    (their own schedule, else the default one); a metric younger than that is not stale yet."""
    return sorted(
        metric["id"]
        for metric in metrics
        if staleness(metric, default_cron=default_cron, now=now).stale
    )


def _job_figures(runs: list[RunSummary], hours: float) -> dict[str, Any]:
    finished = [run for run in runs if run.status in ("SUCCESS", "FAILURE")]
    succeeded = sum(run.status == "SUCCESS" for run in finished)
    durations = sorted(
        (run.end - run.start).total_seconds()
        for run in finished
        if run.start is not None and run.end is not None
    )
    return {
        "runs": len(runs),
        "succeeded": succeeded,
        "failed": len(finished) - succeeded,
        "success_rate": round(succeeded / len(finished), 4) if finished else None,
        "runs_per_hour": round(len(runs) / hours, 3),
        "p50_seconds": _percentile(durations, 50),
        "p95_seconds": _percentile(durations, 95),
    }


def _percentile(sorted_values: list[float], percent: int) -> float | None:
    """Linear interpolation between the nearest ranks (statistics.quantiles' 'inclusive')."""
    if not sorted_values:
        return None
    if len(sorted_values) == 1:
        return round(sorted_values[0], 3)
    cuts = statistics.quantiles(sorted_values, n=100, method="inclusive")
    return round(cuts[percent - 1], 3)


def _iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
