"""The built-in generator: each bundled sample end to end through the real sandbox, hints,
other payload shapes, GenerationError messages, and chart code."""

import ast
import datetime as dt
import json
from pathlib import Path

import pytest

import orbit_dagster.transformers as transformers
from orbit_dagster.transformers import (
    BUILTIN_GENERATOR,
    GenerationError,
    generate_chart_code,
    generate_ingestion_code,
    run_ingestion,
    run_transformer,
)

SAMPLES_DIR = Path(transformers.__file__).parents[1] / "sources" / "samples"

# What was put in github_commits.json: commits per UTC day of `commit.author.date`. There are
# none on 2026-10-04; one commit at 2026-10-02T23:58:12Z must stay on the 2nd.
COMMITS_PER_AUTHOR_DAY = {
    "2026-10-01T00:00:00Z": 4,
    "2026-10-02T00:00:00Z": 6,
    "2026-10-03T00:00:00Z": 2,
    "2026-10-05T00:00:00Z": 7,
    "2026-10-06T00:00:00Z": 5,
    "2026-10-07T00:00:00Z": 6,
}


def load(name: str):
    return json.loads((SAMPLES_DIR / f"{name}.json").read_text())


def extract(payload, **hints):
    code = generate_ingestion_code(
        payload, template="file", name="Test metric", hints=hints or None
    )
    return run_transformer(code, payload, {}, kind="ingestion")


def test_github_commits_are_counted_per_day_of_the_author_date():
    payload = load("github_commits")
    code = generate_ingestion_code(payload, template="file", name="GitHub commits")
    assert 'DATE_PATH = "commit.author.date"' in code
    assert 'AGGREGATION = "count"' in code
    points = run_transformer(code, payload, {}, kind="ingestion")
    assert points == [
        {"date": date, "value": float(count), "dimensions": None}
        for date, count in COMMITS_PER_AUTHOR_DAY.items()
    ]


def test_sheets_values_give_one_series_per_numeric_column():
    payload = load("sheets_values")
    points = extract(payload)
    rows = payload["values"][1:]
    # Independently: every non-empty cell of each numeric column, commas removed.
    expected = sorted(
        (f"{row[0]}T00:00:00Z", column, float(row[index].replace(",", "")))
        for row in rows
        for index, column in ((1, "Signups"), (2, "Revenue"))
        if index < len(row) and row[index]
    )
    assert [(p["date"], p["dimensions"]["series"], p["value"]) for p in points] == expected
    assert len(points) == 58  # 30 rows x 2 columns, less one empty cell in each column
    by_key = {(p["date"][:10], p["dimensions"]["series"]): p["value"] for p in points}
    assert by_key["2026-10-01", "Revenue"] == 1369.74  # "1,369.74" in the sheet
    assert by_key["2026-10-03", "Revenue"] == 2051.84
    assert by_key["2026-10-01", "Signups"] == 176.0
    assert ("2026-10-07", "Revenue") not in by_key  # the row ends before the cell
    assert ("2026-10-15", "Signups") not in by_key  # the cell is ""


def test_timeseries_points_keep_their_own_timestamps_and_values():
    payload = load("timeseries")
    points = extract(payload)
    assert points == [
        {"date": record["timestamp"], "value": float(record["value"]), "dimensions": None}
        for record in payload["data"]
    ]
    assert points[0] == {"date": "2026-10-01T00:00:00Z", "value": 1508.0, "dimensions": None}


def test_generated_code_is_deterministic_readable_python():
    payload = load("sheets_values")
    first = generate_ingestion_code(payload, template="file", name="Growth", description="d")
    again = generate_ingestion_code(payload, template="file", name="Growth", description="d")
    assert first == again
    tree = ast.parse(first)
    docstring = ast.get_docstring(tree)
    assert docstring is not None and docstring.startswith("Growth: ingestion transformer.")
    assert [node.name for node in tree.body if isinstance(node, ast.FunctionDef)][-1] == (
        "transform"
    )
    assert 'DATE_COLUMN = "Date"' in first
    assert 'VALUE_COLUMNS = ["Signups", "Revenue"]' in first
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= {"datetime", "math", "re"}


def test_names_and_descriptions_cannot_break_the_generated_code():
    awkward = 'Sign"""ups \\ \n it\'s'
    payload = load("timeseries")
    code = generate_ingestion_code(payload, template="x", name=awkward, description=awkward)
    assert len(run_transformer(code, payload, kind="ingestion")) == 30
    chart = generate_chart_code([], name=awkward, description=awkward)
    spec = run_transformer(chart, [], kind="chart")
    assert spec["title"] == {"text": 'Sign"""ups \\ it\'s', "subtitle": 'Sign"""ups \\ it\'s'}


# -- hints --------------------------------------------------------------------------------


def test_value_column_hint_picks_one_sheet_column_without_dimensions():
    points = extract(load("sheets_values"), value_column="Revenue")
    assert len(points) == 29
    assert all(point["dimensions"] is None for point in points)
    assert points[0] == {"date": "2026-10-01T00:00:00Z", "value": 1369.74, "dimensions": None}


def test_date_path_hint_overrides_the_inferred_date():
    points = extract(load("github_commits"), date_path="commit.committer.date")
    counts = {point["date"]: point["value"] for point in points}
    # One commit authored late on 2026-10-02 was committed (rebased) on 2026-10-05.
    assert counts["2026-10-02T00:00:00Z"] == 5
    assert counts["2026-10-05T00:00:00Z"] == 8
    assert sum(counts.values()) == 30


def test_group_by_hint_splits_the_count_into_dimensions():
    payload = load("github_commits")
    points = extract(payload, group_by="commit.author.name")
    authors = {point["dimensions"]["commit.author.name"] for point in points}
    assert authors == {commit["commit"]["author"]["name"] for commit in payload}
    per_day = {}
    for point in points:
        per_day[point["date"]] = per_day.get(point["date"], 0) + point["value"]
    assert per_day == COMMITS_PER_AUTHOR_DAY


def test_aggregation_and_granularity_hints():
    payload = load("timeseries")
    values = [record["value"] for record in payload["data"]]
    weekly = extract(payload, aggregation="sum", granularity="week")
    # 2026-10-01 is a Thursday: the first week (from Monday 2026-09-28) holds 4 days.
    assert weekly[0] == {
        "date": "2026-09-28T00:00:00Z",
        "value": sum(values[:4]),
        "dimensions": None,
    }
    assert weekly[1]["date"] == "2026-10-05T00:00:00Z"
    assert weekly[1]["value"] == sum(values[4:11])
    assert sum(point["value"] for point in weekly) == sum(values)
    monthly = extract(payload, aggregation="avg", granularity="month")
    assert monthly == [
        {"date": "2026-10-01T00:00:00Z", "value": sum(values) / 30, "dimensions": None}
    ]
    counted = extract(payload, aggregation="count", granularity="month")
    assert counted[0]["value"] == 30


@pytest.mark.parametrize(
    ("hints", "message"),
    [
        ({"date_field": "x"}, "unknown hint(s) date_field"),
        ({"aggregation": "median"}, "aggregation must be one of count, sum, avg"),
        ({"granularity": "year"}, "granularity must be one of hour, day, week, month"),
        ({"date_path": "commit.nope"}, "have no dates at 'commit.nope'"),
        ({"value_path": "sha"}, "have no numbers at 'sha'"),
        ({"group_by": "nope"}, "have no field 'nope' to group by"),
        ({"records_path": "items"}, "records_path 'items' does not lead to a non-empty list"),
    ],
)
def test_unusable_hints_raise_generation_error(hints, message):
    with pytest.raises(GenerationError) as caught:
        generate_ingestion_code(load("github_commits"), template="file", name="m", hints=hints)
    assert message in str(caught.value)


# -- other payload shapes -------------------------------------------------------------------


def test_nested_envelope_epoch_milliseconds_numeric_strings_and_skipped_records():
    payload = {
        "meta": {"page": 1, "tags": ["a", "b"]},
        "response": {
            "results": [
                {"createdAt": 1790812800000, "amount": "12.5"},  # 2026-10-01T00:00:00Z
                {"createdAt": 1790816400000, "amount": "1,000"},  # an hour later
                {"createdAt": None, "amount": "3"},  # no date: skipped
                {"createdAt": 1790899200000, "amount": None},  # no value: skipped
                {"createdAt": 1790899200000, "amount": 7},
            ]
        },
    }
    code = generate_ingestion_code(payload, template="http-json", name="Sales")
    assert 'RECORDS_PATH = "response.results"' in code
    assert run_transformer(code, payload, kind="ingestion") == [
        {"date": "2026-10-01T00:00:00Z", "value": 12.5, "dimensions": None},
        {"date": "2026-10-01T01:00:00Z", "value": 1000.0, "dimensions": None},
        {"date": "2026-10-02T00:00:00Z", "value": 7.0, "dimensions": None},
    ]


def test_date_found_by_value_and_first_top_level_number_used():
    payload = [
        {"id": 1, "when": "2026-10-01T10:00:00+02:00", "meta": {"weight": 9}, "reading": 3.5},
        {"id": 2, "when": "2026-10-02T10:00:00+02:00", "meta": {"weight": 9}, "reading": 4},
    ]
    points = extract(payload)
    assert points == [
        {"date": "2026-10-01T08:00:00Z", "value": 3.5, "dimensions": None},
        {"date": "2026-10-02T08:00:00Z", "value": 4.0, "dimensions": None},
    ]


def test_object_without_history_becomes_a_snapshot_dated_at_run_time():
    payload = {"id": 1296269, "name": "orbit", "stargazers_count": 80, "owner": {"id": 583231}}
    code = generate_ingestion_code(payload, template="http-json", name="Stars")
    assert 'VALUE_PATH = "stargazers_count"' in code
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    [point] = run_transformer(code, payload, kind="ingestion")
    after = dt.datetime.now(dt.UTC)
    assert point["value"] == 80.0 and point["dimensions"] is None
    assert before <= dt.datetime.fromisoformat(point["date"]) <= after


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            {"a": "x", "b": {"c": True}},
            "no time series found in the payload: top level is an object with keys "
            "['a', 'b']; no list of records with a date-like field and no numeric field",
        ),
        (
            {"items": [{"name": "a", "tag": "x"}, {"name": "b", "tag": "y"}]},
            "top level is an object with keys ['items']; the 2 records at 'items' have no "
            "date-like field (fields: name, tag) and no numeric field",
        ),
        (["x", "y"], "top level is a list of 2 items (strings); no list of records"),
        ("just text", "top level is a string"),
        ([[1, 2], [3, 4]], "the 2 rows at the top level have no header row"),
        ({"data": [1, 2, 3]}, "no list of records with a date-like field and no numeric field"),
        (
            {"t": ["2026-10-01", "2026-10-02"], "v": [1]},
            "the 2 dates at 't' have no list of values beside them",
        ),
    ],
)
def test_payload_without_series_raises_generation_error_saying_what_was_found(payload, message):
    with pytest.raises(GenerationError) as caught:
        generate_ingestion_code(payload, template="file", name="m")
    assert message in str(caught.value)


# -- chart --------------------------------------------------------------------------------


def chart_for(points, name="Daily active users", description="Users seen each day"):
    code = generate_chart_code(points[:50], name=name, description=description)
    return run_transformer(code, points, {}, kind="chart")


def test_chart_is_a_vega_lite_line_over_time():
    points = extract(load("timeseries"))
    spec = chart_for(points)
    assert spec["$schema"] == "https://vega.github.io/schema/vega-lite/v5.json"
    assert spec["title"] == {"text": "Daily active users", "subtitle": "Users seen each day"}
    assert spec["mark"] == {"type": "line", "point": True}
    assert spec["encoding"]["x"] == {"field": "date", "type": "temporal", "title": "Date"}
    assert spec["encoding"]["y"]["field"] == "value"
    assert spec["encoding"]["y"]["title"] == "Daily active users"
    assert "color" not in spec["encoding"]
    assert len(spec["data"]["values"]) == 30
    assert spec["data"]["values"][0] == {"date": "2026-10-01T00:00:00Z", "value": 1508.0}


def test_chart_colours_series_by_dimension():
    points = extract(load("sheets_values"))
    spec = chart_for(points, name="Signups and revenue", description="")
    assert spec["title"] == "Signups and revenue"
    assert spec["encoding"]["color"] == {"field": "series", "type": "nominal", "title": "series"}
    assert len(spec["data"]["values"]) == 58
    assert {row["series"] for row in spec["data"]["values"]} == {"Signups", "Revenue"}


def test_chart_of_a_single_point_is_a_big_number():
    point = {"date": "2026-10-31T12:00:00Z", "value": 80.0, "dimensions": None}
    spec = chart_for([point], name="Stars")
    assert spec["mark"]["type"] == "text"
    assert spec["encoding"]["text"]["field"] == "value"
    assert spec["data"]["values"] == [{"date": "2026-10-31T12:00:00Z", "value": 80.0}]


def test_generator_name_is_recorded():
    assert BUILTIN_GENERATOR == "builtin-v1"


def test_chart_of_one_date_across_categories_is_bars():
    points = [
        {"date": "2026-10-01T00:00:00Z", "value": 5.0, "dimensions": {"country": "DE"}},
        {"date": "2026-10-01T00:00:00Z", "value": 7.0, "dimensions": {"country": "FR"}},
    ]
    spec = chart_for(points, name="Revenue by country")
    assert spec["mark"] == {"type": "bar"}
    assert spec["encoding"]["x"] == {"field": "series", "type": "nominal", "title": "country"}
    assert spec["encoding"]["y"]["title"] == "Revenue by country"


def test_generated_ingestion_code_reports_skipped_entries():
    payload = [
        {"date": "2026-10-01", "value": 1},
        {"date": "2026-10-02", "value": 2},
        {"date": "2026-10-02", "value": "-"},
        {"date": "soon", "value": 3},
        {"value": 4},
    ]
    code = generate_ingestion_code(payload, template="file", name="m")
    result = run_ingestion(code, payload)
    assert [point["value"] for point in result.points] == [1.0, 2.0]
    assert result.skipped == {"no usable date": 2, "no usable value": 1}
    # run_transformer keeps returning just the points.
    assert run_transformer(code, payload, kind="ingestion") == result.points


# -- defects that must not return -----------------------------------------------------------


def test_lists_longer_than_the_sample_still_find_their_dates():
    # Dates were found in a 200-record sample but counted against all 450 records.
    payload = [{"ts": 1790812800 + 3600 * hour, "reading": hour} for hour in range(450)]
    points = extract(payload)
    assert len(points) == 450
    assert points[-1] == {"date": "2026-10-19T17:00:00Z", "value": 449.0, "dimensions": None}


def test_non_finite_values_are_skipped_and_counted_never_turned_into_counting():
    nan, inf = float("nan"), float("inf")
    values = [1, 2, nan, 4, inf, 6, 7, 8, 9, 10, 11, -inf, 13, "NaN"]
    payload = [{"date": f"2026-10-{day:02d}", "value": v} for day, v in enumerate(values, 1)]
    code = generate_ingestion_code(payload, template="file", name="m")
    assert 'VALUE_PATH = "value"' in code
    result = run_ingestion(code, payload)
    assert [point["value"] for point in result.points] == [
        1.0,
        2.0,
        4.0,
        6.0,
        7.0,
        8.0,
        9.0,
        10.0,
        11.0,
        13.0,
    ]
    assert result.skipped == {"no usable value": 4}


def test_year_one_is_written_with_four_digits():
    payload = [{"date": "0001-01-01", "value": 1}, {"date": "2026-10-01", "value": 2}]
    result = run_ingestion(generate_ingestion_code(payload, template="file", name="m"), payload)
    assert [point["date"] for point in result.points] == [
        "0001-01-01T00:00:00Z",
        "2026-10-01T00:00:00Z",
    ]


def test_a_numeric_value_path_reads_that_position_of_each_row():
    payload = [[1790812800, 5, 7], [1790899200, 6, 8]]
    assert extract(payload, value_path="2") == [
        {"date": "2026-10-01T00:00:00Z", "value": 7.0, "dimensions": None},
        {"date": "2026-10-02T00:00:00Z", "value": 8.0, "dimensions": None},
    ]
