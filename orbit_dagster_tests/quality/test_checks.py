"""The data-quality checks on series built to pass and to fail each one."""

import dataclasses
import datetime as dt

import pytest

from orbit_dagster.quality import (
    CHECKS,
    Subject,
    check_finite_values,
    check_fresh,
    check_gaps,
    check_has_points,
    check_jumps,
    check_overlap,
    run_checks,
)
from orbit_dagster.quality.revisions import compare, not_compared
from orbit_dagster.store import Point

START = dt.datetime(2026, 10, 1)
NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
HOURLY = "0 * * * *"


def subject(points, **metric):
    """The checks' subject: `points`, and a metric refreshed just now unless `metric` says."""
    row = {"created_at": "2026-10-01T00:00:00Z", "last_fetched_at": "2026-11-29T11:30:00Z"}
    return Subject(points=points, metric={**row, **metric}, now=NOW, default_cron=HOURLY)


def series(values, step=dt.timedelta(days=1), dimensions=None, skip=()):
    return [
        {
            "date": (START + step * n).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "value": value,
            "dimensions": dimensions,
        }
        for n, value in enumerate(values)
        if n not in skip
    ]


def test_a_steady_daily_series_passes_every_check():
    results = run_checks(subject(series([10, 11, 12, 11, 10, 12, 13])))
    assert [r.name for r in results] == list(CHECKS)
    assert all(r.passed for r in results), [r.description for r in results]


def test_no_points_is_an_error():
    result = check_has_points(subject([]))
    assert (result.passed, result.severity, result.description) == (
        False,
        "error",
        "no points stored",
    )


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "12", None, True])
def test_a_value_that_is_not_a_finite_number_is_an_error(bad):
    result = check_finite_values(subject(series([1.0, bad, 2.0])))
    assert not result.passed and result.severity == "error"
    assert result.description == "1 of 3 values are not finite numbers"
    assert result.metadata["examples"] == [f"2026-10-02T00:00:00Z: {bad!s:.40}"]


def test_a_gap_names_its_dates_and_series():
    points = series(range(10), dimensions={"region": "eu"}, skip={4, 5, 6}) + series(range(10))
    result = check_gaps(subject(points))
    assert not result.passed and result.severity == "warning"
    assert result.metadata["longest"] == [
        "2026-10-04T00:00:00Z → 2026-10-08T00:00:00Z [region=eu] (4 days, usually 1 days)"
    ]


def test_weekends_in_a_business_day_series_and_hourly_spacing_are_not_gaps():
    business_days = [n for n in range(28) if (START + dt.timedelta(days=n)).weekday() < 5]
    weekdays = series([1.0] * 28, skip=set(range(28)) - set(business_days))
    assert check_gaps(subject(weekdays)).passed
    hourly = series([1.0] * 48, step=dt.timedelta(hours=1), skip={10, 11, 12, 13})
    result = check_gaps(subject(hourly))
    assert result.metadata["longest"] == [
        "2026-10-01T09:00:00Z → 2026-10-01T14:00:00Z (5 hours, usually 1 hours)"
    ]


@pytest.mark.parametrize(
    ("values", "jumped"),
    [
        ([100, 102, 98, 101, 5000], True),  # a lost decimal point
        ([100, 102, 98, 101, 3], True),  # a drop
        ([0, 0, 0, 7], True),  # from nothing
        ([100, 102, 98, 101, 150], False),  # growth, not a jump
        ([0, 0, 0, 0], False),
        ([1, 500], False),  # too short to have a recent median
    ],
)
def test_jumps_against_the_recent_median(values, jumped):
    result = check_jumps(subject(series(values)))
    assert result.passed is not jumped
    assert result.severity == "warning"
    if jumped:
        assert f": {values[-1]:g} against a recent median of" in result.description


def day(n: int) -> dt.datetime:
    return START + dt.timedelta(days=n)


def test_a_save_that_changes_stored_values_is_recorded_with_examples():
    stored = {(day(0), ""): 10.0, (day(1), ""): 11.0, (day(2), ""): 12.0}
    new = [Point(day(0), 10.0), Point(day(1), 15.0), Point(day(2), 20.0), Point(day(3), 5.0)]
    revision = compare(stored, {"": day(2)}, new, "run-1")
    # day 2 is the series' latest stored period (still filling): not a revision.
    assert revision == {
        "run_id": "run-1",
        "compared": 2,
        "changed": 1,
        "examples": ["2026-10-02T00:00:00Z: 11 → 15"],
    }
    result = check_overlap(subject([], last_revision=revision))
    assert (result.passed, result.severity) == (False, "warning")
    assert result.description == (
        "1 of 2 stored values changed (the source revised its history or the transformer "
        "changed meaning); first: 2026-10-02T00:00:00Z: 11 → 15"
    )
    assert result.metadata["examples"] == ["2026-10-02T00:00:00Z: 11 → 15"]


def test_each_series_is_compared_on_its_own_and_float_noise_is_no_change():
    eu, us = {"region": "eu"}, {"region": "us"}
    stored = {
        (day(0), Point(day(0), 0, eu).dimensions_key): 0.3,
        (day(1), Point(day(1), 0, eu).dimensions_key): 7.0,
        (day(0), Point(day(0), 0, us).dimensions_key): 1.0,
    }
    latest = {
        Point(day(0), 0, eu).dimensions_key: day(1),
        Point(day(0), 0, us).dimensions_key: day(0),
    }
    new = [Point(day(0), 0.1 + 0.2, eu), Point(day(1), 9.0, eu), Point(day(0), 4.0, us)]
    # eu day 0 equal within float noise; eu day 1 and us day 0 are each series' latest period.
    assert compare(stored, latest, new, "r") == {
        "run_id": "r", "compared": 1, "changed": 0, "examples": []
    }  # fmt: skip
    us_history = {**stored, (day(-1), Point(day(0), 0, us).dimensions_key): 2.0}
    changed = compare(us_history, latest, [Point(day(-1), 3.0, us)], "r")
    assert changed["examples"] == ["2026-09-30T00:00:00Z [region=us]: 2 → 3"]


def test_the_overlap_check_passes_before_any_save_and_after_a_hard_refresh():
    assert check_overlap(subject([])).description == "no save recorded yet"
    replaced = check_overlap(subject([], last_revision=not_compared("r", "a hard refresh")))
    assert replaced.passed
    assert replaced.description == "stored values not compared: a hard refresh"


@pytest.mark.parametrize(
    ("metric", "fresh", "description"),
    [
        (
            {"last_fetched_at": "2026-11-29T11:00:00Z"},
            True,
            "last refreshed 2026-11-29T11:00:00Z, within 2 × 1 hours (0 * * * *)",
        ),
        (
            {"last_fetched_at": "2026-11-29T09:00:00Z"},
            False,
            "last refreshed 2026-11-29T09:00:00Z; stale after 2 × 1 hours (0 * * * *)",
        ),
        # Its own daily schedule: 30 hours is within two days.
        (
            {"last_fetched_at": "2026-11-28T06:00:00Z", "schedule": "0 6 * * *"},
            True,
            "last refreshed 2026-11-28T06:00:00Z, within 2 × 1 days (0 6 * * *)",
        ),
        (
            {"last_fetched_at": None, "created_at": "2026-11-29T08:00:00Z"},
            False,
            "never refreshed (added 2026-11-29T08:00:00Z); stale after 2 × 1 hours (0 * * * *)",
        ),
        # Added a moment ago: not stale before it has had its chance.
        (
            {"last_fetched_at": None, "created_at": "2026-11-29T11:50:00Z"},
            True,
            "never refreshed (added 2026-11-29T11:50:00Z), within 2 × 1 hours (0 * * * *)",
        ),
    ],
)
def test_fresh_within_two_intervals_of_the_metrics_schedule(metric, fresh, description):
    result = check_fresh(subject([], **metric))
    assert (result.passed, result.severity, result.description) == (fresh, "warning", description)


def test_a_run_checking_its_own_save_counts_it_as_the_refresh():
    stale = subject([], last_fetched_at="2026-11-20T00:00:00Z")
    assert not check_fresh(stale).passed
    assert check_fresh(dataclasses.replace(stale, refreshed_at=NOW)).passed
