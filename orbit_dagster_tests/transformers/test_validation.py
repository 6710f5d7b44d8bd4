"""Output validation: what is accepted and normalised, and each rejection with its message."""

import datetime as dt
import math

import pytest

from orbit_dagster.transformers import TransformerError
from orbit_dagster.transformers.validation import (
    validate_chart_output,
    validate_ingestion_output,
    validate_ingestion_report,
)

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"


def validate(*items, max_points=1_000):
    return validate_ingestion_output(list(items), max_points=max_points)


@pytest.mark.parametrize(
    ("date", "normalised"),
    [
        ("2026-10-01T12:30:00Z", "2026-10-01T12:30:00Z"),
        ("2026-10-01T12:30:00.999+02:00", "2026-10-01T10:30:00Z"),
        ("2026-10-01T12:30:00", "2026-10-01T12:30:00Z"),  # naive is UTC
        ("2026-10-01", "2026-10-01T00:00:00Z"),
        (" 2026-10-01 ", "2026-10-01T00:00:00Z"),
        ("2026-10", "2026-10-01T00:00:00Z"),  # reduced precision, via dateutil's isoparse
        (1790812800, "2026-10-01T00:00:00Z"),  # epoch seconds
        (1790812800.5, "2026-10-01T00:00:00Z"),
        (1790812800000, "2026-10-01T00:00:00Z"),  # epoch milliseconds
        (
            dt.datetime(2026, 10, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            "2026-10-01T00:00:00Z",
        ),
        (dt.date(2026, 10, 1), "2026-10-01T00:00:00Z"),
    ],
)
def test_dates_are_normalised_to_utc(date, normalised):
    assert validate({"date": date, "value": 1})[0]["date"] == normalised


@pytest.mark.parametrize(
    ("value", "number"),
    [(3, 3.0), (2.5, 2.5), ("42", 42.0), (" -1.5e3 ", -1500.0), (10**20, 1e20)],
)
def test_numbers_and_numeric_strings_become_floats(value, number):
    [point] = validate({"date": "2026-10-01", "value": value})
    assert point["value"] == number and isinstance(point["value"], float)


def test_dimensions_become_string_labels_and_empty_ones_none():
    points = validate(
        {"date": "2026-10-01", "value": 1, "dimensions": {"region": "eu", "tier": 2, "paid": True}},
        {"date": "2026-10-01", "value": 1, "dimensions": {}},
        {"date": "2026-10-01", "value": 1, "dimensions": None},
        {"date": "2026-10-01", "value": 1},
    )
    assert points[0]["dimensions"] == {"region": "eu", "tier": "2", "paid": "true"}
    assert [point["dimensions"] for point in points[1:]] == [None, None, None]


def test_empty_output_is_valid():
    assert validate_ingestion_output([], max_points=10) == []


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ({"date": "2026-10-01", "value": 1}, "must return a list of points, got dict"),
        (None, "must return a list of points, got null"),
        (["2026-10-01"], "index 0: each point must be a dict with date, value and dimensions"),
        ([{"value": 1}], "index 0: 'date' is missing"),
        ([{"date": "2026-10-01", "value": None}], "index 0: 'value' is missing"),
        ([{"date": "2026-10-01", "value": 1, "label": "x"}], "index 0: unexpected keys ['label']"),
        ([{"date": "yesterday", "value": 1}], "index 0: 'date' is not a date: 'yesterday'"),
        ([{"date": "2026-13-01", "value": 1}], "index 0: 'date' is not a date"),
        ([{"date": True, "value": 1}], "index 0: 'date' is not a date: a boolean"),
        ([{"date": 10**20, "value": 1}], "index 0: 'date' is not a date: epoch time"),
        ([{"date": 10**400, "value": 1}], "index 0: 'date' is not a date: epoch time"),
        ([{"date": [2026, 10, 1], "value": 1}], "index 0: 'date' is not a date: list"),
        ([{"date": "2026-10-01", "value": math.nan}], "index 0: 'value' must be a finite number"),
        ([{"date": "2026-10-01", "value": math.inf}], "index 0: 'value' must be a finite number"),
        ([{"date": "2026-10-01", "value": "NaN"}], "index 0: 'value' must be a finite number"),
        ([{"date": "2026-10-01", "value": 10**400}], "index 0: 'value' must be a finite number"),
        (
            [{"date": "2026-10-01", "value": True}],
            "index 0: 'value' must be a number, got a boolean",
        ),
        (
            [{"date": "2026-10-01", "value": "12 apples"}],
            "'value' must be a number, got the string",
        ),
        ([{"date": "2026-10-01", "value": "1,234"}], "'value' must be a number, got the string"),
        ([{"date": "2026-10-01", "value": [1]}], "index 0: 'value' must be a number, got list"),
        (
            [{"date": "2026-10-01", "value": 1, "dimensions": ["eu"]}],
            "index 0: 'dimensions' must be a dict of names to strings, got list",
        ),
        (
            [{"date": "2026-10-01", "value": 1, "dimensions": {"geo": {"country": "fr"}}}],
            "index 0: dimension 'geo' must be a string or a number, got dict",
        ),
        (
            [{"date": "2026-10-01", "value": 1, "dimensions": {"geo": None}}],
            "index 0: dimension 'geo' must be a string or a number, got null",
        ),
        (
            [{"date": "2026-10-01", "value": 1, "dimensions": {1: "x"}}],
            "index 0: dimension names must be strings",
        ),
    ],
)
def test_invalid_points_are_rejected_naming_index_and_field(output, message):
    with pytest.raises(TransformerError) as caught:
        validate_ingestion_output(output, max_points=1_000)
    assert message in str(caught.value)


def test_the_failing_index_is_the_bad_item():
    good = {"date": "2026-10-01", "value": 1}
    with pytest.raises(TransformerError, match="invalid output at index 2: 'value'"):
        validate(good, good, {"date": "2026-10-01", "value": "x"})


def test_too_many_points_are_rejected():
    point = {"date": "2026-10-01", "value": 1}
    with pytest.raises(TransformerError, match="11 points is more than the limit of 10"):
        validate(*[point] * 11, max_points=10)


def test_valid_chart_spec_is_returned_unchanged():
    spec = {"$schema": SCHEMA, "mark": "line", "data": {"values": []}}
    assert validate_chart_output(spec, max_bytes=10_000) is spec
    layered = {"$schema": SCHEMA, "layer": [{"mark": "line"}]}
    assert validate_chart_output(layered, max_bytes=10_000) is layered


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ([{"mark": "line"}], "must return a dict, got list"),
        ({"mark": "line"}, "'$schema' must be a Vega-Lite schema URL, got None"),
        ({"$schema": "https://json-schema.org/", "mark": "line"}, "'$schema' must be a Vega-Lite"),
        ({"$schema": SCHEMA, "data": {"values": []}}, "it needs one of the keys mark, layer"),
        ({"$schema": SCHEMA, "mark": "line", "x": math.nan}, "not JSON-serialisable"),
        ({"$schema": SCHEMA, "mark": "line", "x": {1, 2}}, "not JSON-serialisable"),
        ({"$schema": SCHEMA, "mark": "line", "x": "y" * 2_000}, "more than the limit of 1,000"),
    ],
)
def test_invalid_chart_specs_are_rejected(spec, message):
    with pytest.raises(TransformerError) as caught:
        validate_chart_output(spec, max_bytes=1_000)
    assert message in str(caught.value)


def test_a_report_gives_points_and_skipped_counts():
    point = {"date": "2026-10-01", "value": 1}
    points, skipped = validate_ingestion_report(
        {"points": [point], "skipped": {"no usable date": 2}}, max_points=10
    )
    assert points == [{"date": "2026-10-01T00:00:00Z", "value": 1.0, "dimensions": None}]
    assert skipped == {"no usable date": 2}
    assert validate_ingestion_report([point], max_points=10) == (points, {})


@pytest.mark.parametrize(
    ("report", "message"),
    [
        ({"points": [], "extra": 1}, "unexpected keys ['extra'] beside points and skipped"),
        ({"points": [], "skipped": [1]}, "'skipped' must be a dict"),
        ({"points": [], "skipped": {"x": "2"}}, "'skipped' must map reasons to counts"),
        ({"points": [], "skipped": {"x": -1}}, "skipped count -1 is negative"),
        ({"points": {"date": "2026-10-01"}}, "must return a list of points, got dict"),
    ],
)
def test_invalid_reports_are_rejected(report, message):
    with pytest.raises(TransformerError) as caught:
        validate_ingestion_report(report, max_points=10)
    assert message in str(caught.value)
