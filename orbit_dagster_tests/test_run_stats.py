"""Pipeline health figures from runs and metrics built to give known numbers."""

import datetime as dt

from orbit_dagster.quality.freshness import cron_interval
from orbit_dagster.run_stats import RunSummary, pipeline_stats, stale_metrics

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
SINCE = NOW - dt.timedelta(hours=24)


def run(n: int, job: str, status: str, seconds: float, hours_ago: float) -> RunSummary:
    start = NOW - dt.timedelta(hours=hours_ago)
    end = start + dt.timedelta(seconds=seconds) if status in ("SUCCESS", "FAILURE") else None
    error = "boom" if status == "FAILURE" else None
    return RunSummary(f"r{n}", job, status, start, end, error)


def test_per_job_rates_durations_and_failed_runs():
    runs = [run(n, "refresh_metric_job", "SUCCESS", seconds, 1) for n, seconds in enumerate(
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    )]  # fmt: skip
    runs += [
        run(10, "refresh_metric_job", "FAILURE", 20, 2),
        run(11, "refresh_metrics_batch_job", "STARTED", 0, 0.5),
        run(12, "refresh_metric_job", "SUCCESS", 1, 30),  # before the window
    ]
    stats = pipeline_stats(runs, [], since=SINCE, now=NOW, default_cron="0 * * * *")
    refresh = stats["jobs"]["refresh_metric_job"]
    assert (refresh["runs"], refresh["succeeded"], refresh["failed"]) == (11, 10, 1)
    assert refresh["success_rate"] == round(10 / 11, 4)
    assert refresh["runs_per_hour"] == round(11 / 24, 3)
    assert refresh["p50_seconds"] == 6.0  # of 1..10 and 20
    assert 10 < refresh["p95_seconds"] <= 20
    batch = stats["jobs"]["refresh_metrics_batch_job"]
    # A run still going counts as a run, not in the rates or durations.
    assert (batch["runs"], batch["success_rate"], batch["p50_seconds"]) == (1, None, None)
    assert stats["runs"] == 12
    assert stats["failed_runs"] == [
        {"run_id": "r10", "job": "refresh_metric_job", "started": "2026-11-29T10:00:00Z",
         "error": "boom"}
    ]  # fmt: skip


def test_metrics_with_errors_and_stale_metrics():
    metrics = [
        {"id": "fresh", "schedule": None, "last_fetched_at": "2026-11-29T11:10:00Z"},
        {"id": "late", "schedule": None, "last_fetched_at": "2026-11-29T09:00:00Z"},
        {"id": "daily", "schedule": "0 6 * * *", "last_fetched_at": "2026-11-28T06:00:00Z"},
        {"id": "failing", "schedule": None, "last_fetched_at": None, "last_error": "HTTP 500",
         "created_at": "2026-11-20T00:00:00Z"},
        {"id": "new", "schedule": None, "last_fetched_at": None,
         "created_at": "2026-11-29T11:59:00Z"},
    ]  # fmt: skip
    stats = pipeline_stats([], metrics, since=SINCE, now=NOW, default_cron="0 * * * *")
    assert stats["metrics_with_errors"] == ["failing"]
    # Hourly by default: 3 h without a refresh is stale, 50 min is not; daily: 30 h is not.
    assert stats["stale_metrics"] == ["failing", "late"]
    assert stats["jobs"] == {} and stats["runs"] == 0


def test_cron_interval():
    assert cron_interval("0 * * * *", NOW) == dt.timedelta(hours=1)
    assert cron_interval("0 6 * * *", NOW) == dt.timedelta(days=1)
    assert cron_interval("*/15 * * * *", NOW + dt.timedelta(minutes=7)) == dt.timedelta(minutes=15)
    weekly = [{"id": "w", "schedule": "0 0 * * 1", "last_fetched_at": "2026-11-23T00:00:00Z"}]
    assert stale_metrics(weekly, default_cron="0 * * * *", now=NOW) == []
