"""The data-quality checks on series built to pass and to fail each one."""

import datetime as dt

import pytest

from orbit_dagster.quality import (
    CHECKS,
    check_finite_values,
    check_gaps,
    check_has_points,
    check_jumps,
    run_checks,
)

START = dt.datetime(2026, 10, 1)


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
    results = run_checks(series([10, 11, 12, 11, 10, 12, 13]))
    assert [r.name for r in results] == list(CHECKS)
    assert all(r.passed for r in results), [r.description for r in results]


def test_no_points_is_an_error():
    result = check_has_points([])
    assert (result.passed, result.severity, result.description) == (
        False,
        "error",
        "no points stored",
    )


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "12", None, True])
def test_a_value_that_is_not_a_finite_number_is_an_error(bad):
    result = check_finite_values(series([1.0, bad, 2.0]))
    assert not result.passed and result.severity == "error"
    assert result.description == "1 of 3 values are not finite numbers"
    assert result.metadata["examples"] == [f"2026-10-02T00:00:00Z: {bad!s:.40}"]


def test_a_gap_names_its_dates_and_series():
    points = series(range(10), dimensions={"region": "eu"}, skip={4, 5, 6}) + series(range(10))
    result = check_gaps(points)
    assert not result.passed and result.severity == "warning"
    assert result.metadata["longest"] == [
        "2026-10-04T00:00:00Z → 2026-10-08T00:00:00Z [region=eu] (4 days, usually 1 days)"
    ]


def test_weekends_in_a_business_day_series_and_hourly_spacing_are_not_gaps():
    business_days = [n for n in range(28) if (START + dt.timedelta(days=n)).weekday() < 5]
    weekdays = series([1.0] * 28, skip=set(range(28)) - set(business_days))
    assert check_gaps(weekdays).passed
    hourly = series([1.0] * 48, step=dt.timedelta(hours=1), skip={10, 11, 12, 13})
    result = check_gaps(hourly)
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
    result = check_jumps(series(values))
    assert result.passed is not jumped
    assert result.severity == "warning"
    if jumped:
        assert f": {values[-1]:g} against a recent median of" in result.description
