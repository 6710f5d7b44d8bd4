"""Payload shapes by family, each as public APIs document it, end to end through the built-in
generator and the real sandbox: the points must be exactly the ones worked out by hand."""

import pytest

from orbit_dagster.transformers import GenerationError, generate_ingestion_code, run_ingestion


def points_of(payload, name, **hints):
    code = generate_ingestion_code(payload, template="http-json", name=name, hints=hints)
    result = run_ingestion(code, payload)
    return [(p["date"], p["value"], p["dimensions"]) for p in result.points], result.skipped


def test_objects_keyed_by_date_beside_metadata_take_the_named_field():
    # Alpha Vantage TIME_SERIES_DAILY: keys with spaces and dots ("4. close").
    payload = {
        "Meta Data": {"1. Information": "Daily Prices", "2. Symbol": "IBM"},
        "Time Series (Daily)": {
            "2026-10-02": {"1. open": "101.0", "4. close": "103.5", "5. volume": "4000"},
            "2026-10-01": {"1. open": "100.0", "4. close": "101.2", "5. volume": "3500"},
        },
    }
    points, _ = points_of(payload, "IBM close")
    assert points == [("2026-10-01T00:00:00Z", 101.2, None), ("2026-10-02T00:00:00Z", 103.5, None)]


def test_a_top_level_list_of_metadata_then_records():
    # World Bank: [page info, records], years as text, dimension from "by country".
    payload = [
        {"page": 1, "pages": 1, "per_page": 50, "total": 4},
        [
            {"countryiso3code": "FRA", "date": "2024", "value": 68.5, "decimal": 0},
            {"countryiso3code": "FRA", "date": "2023", "value": 68.2, "decimal": 0},
            {"countryiso3code": "ITA", "date": "2024", "value": 58.9, "decimal": 0},
            {"countryiso3code": "ITA", "date": "2023", "value": None, "decimal": 0},
        ],
    ]
    points, skipped = points_of(payload, "Population by country")
    assert points == [
        ("2023-01-01T00:00:00Z", 68.2, {"countryiso3code": "FRA"}),
        ("2024-01-01T00:00:00Z", 68.5, {"countryiso3code": "FRA"}),
        ("2024-01-01T00:00:00Z", 58.9, {"countryiso3code": "ITA"}),
    ]
    assert skipped == {"no usable value": 1}


def test_a_table_whose_date_is_spread_over_year_and_month_columns():
    payload = {"values": [["year", "month", "sales"], ["2026", "9", "12"], ["2026", "10", "15"]]}
    points, _ = points_of(payload, "Sales")
    assert points == [("2026-09-01T00:00:00Z", 12.0, None), ("2026-10-01T00:00:00Z", 15.0, None)]


def test_rows_beside_a_list_of_column_names():
    # Nasdaq Data Link datasets: `column_names` and `data`, newest first.
    payload = {
        "dataset": {
            "column_names": ["Date", "Open", "Close"],
            "data": [["2026-10-02", 5.0, 5.5], ["2026-10-01", 4.0, 4.5]],
        }
    }
    points, _ = points_of(payload, "Close price")
    assert points == [("2026-10-01T00:00:00Z", 4.5, None), ("2026-10-02T00:00:00Z", 5.5, None)]


def test_buckets_read_their_count_for_a_count_and_a_nested_value_for_a_measure():
    # Elasticsearch date_histogram with a sum sub-aggregation.
    buckets = [
        {"key_as_string": "2026-10-01T00:00:00.000Z", "doc_count": 12, "revenue": {"value": 99.5}},
        {"key_as_string": "2026-10-02T00:00:00.000Z", "doc_count": 7, "revenue": {"value": 40.0}},
    ]
    payload = {"took": 3, "aggregations": {"per_day": {"buckets": buckets}}}
    assert points_of(payload, "Orders per day")[0] == [
        ("2026-10-01T00:00:00Z", 12.0, None),
        ("2026-10-02T00:00:00Z", 7.0, None),
    ]
    assert points_of(payload, "Revenue per day")[0] == [
        ("2026-10-01T00:00:00Z", 99.5, None),
        ("2026-10-02T00:00:00Z", 40.0, None),
    ]


def test_graphql_records_several_levels_down_under_a_list_of_one():
    # Cloudflare GraphQL analytics.
    groups = [
        {"dimensions": {"date": "2026-10-01"}, "sum": {"requests": 1200, "cachedRequests": 700}},
        {"dimensions": {"date": "2026-10-02"}, "sum": {"requests": 1500, "cachedRequests": 800}},
    ]
    payload = {"data": {"viewer": {"zones": [{"httpRequests1dGroups": groups}]}}, "errors": None}
    points, _ = points_of(payload, "Requests per day")
    assert points == [
        ("2026-10-01T00:00:00Z", 1200.0, None),
        ("2026-10-02T00:00:00Z", 1500.0, None),
    ]


@pytest.mark.parametrize(
    ("labels", "dates"),
    [
        (["2024-Q4", "2025Q1"], ["2024-10-01T00:00:00Z", "2025-01-01T00:00:00Z"]),
        (["2026-W01", "2026-W02"], ["2025-12-29T00:00:00Z", "2026-01-05T00:00:00Z"]),
        (["2026-03", "2026M04"], ["2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"]),
        (["Mar 2026", "April 2026"], ["2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"]),
    ],
)
def test_period_labels_are_read_as_the_start_of_their_period(labels, dates):
    payload = {
        "observations": [{"period": label, "value": str(n)} for n, label in enumerate(labels)]
    }
    points, _ = points_of(payload, "GDP")
    assert [(date, value) for date, value, _ in points] == list(zip(dates, [0.0, 1.0], strict=True))


def test_json_stat_positions_point_into_the_value_list():
    # Eurostat JSON-stat 2.0: the time index maps labels to positions in `value`.
    payload = {
        "version": "2.0",
        "value": {"0": 2.2, "1": 2.0, "2": 2.1},
        "dimension": {
            "geo": {"category": {"index": {"EA20": 0}}},
            "time": {"category": {"index": {"2026-07": 0, "2026-08": 1, "2026-09": 2}}},
        },
    }
    points, _ = points_of(payload, "Euro area inflation")
    assert [value for _, value, _ in points] == [2.2, 2.0, 2.1]
    assert points[0][0] == "2026-07-01T00:00:00Z"


def test_unlabelled_candle_rows_are_refused_unless_a_position_is_given():
    rows = [
        [1790812800, "10.0", "12.0", "9.5", "11.0"],
        [1790899200, "11.0", "13.0", "10.5", "12.5"],
    ]
    payload = {"error": [], "result": {"XXBTZUSD": rows, "last": 1790899200}}
    with pytest.raises(GenerationError) as refusal:
        generate_ingestion_code(payload, template="http-json", name="Bitcoin price")
    assert "value_path=4" in str(refusal.value)
    points, _ = points_of(payload, "Bitcoin price", records_path="result.XXBTZUSD", value_path="4")
    assert [value for _, value, _ in points] == [11.0, 12.5]


def test_a_prometheus_instant_vector_is_one_point_per_label_set():
    payload = {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [
                {"metric": {"instance": "a:9100", "job": "node"}, "value": [1790812800, "1"]},
                {"metric": {"instance": "b:9100", "job": "node"}, "value": [1790812800, "0"]},
            ],
        },
    }
    points, _ = points_of(payload, "Up, by instance")
    assert points == [
        ("2026-10-01T00:00:00Z", 1.0, {"metric.instance": "a:9100"}),
        ("2026-10-01T00:00:00Z", 0.0, {"metric.instance": "b:9100"}),
    ]


def test_records_kept_in_groups_are_joined():
    # GitHub GraphQL contribution calendar: days inside weeks.
    def day(date, count):
        return {"date": date, "contributionCount": count, "weekday": 0}

    weeks = [
        {"contributionDays": [day("2026-09-27", 0), day("2026-09-28", 1)]},
        {"contributionDays": [day("2026-09-29", 5), day("2026-09-30", 1)]},
    ]
    payload = {"data": {"user": {"calendar": {"total": 9, "weeks": weeks}}}}
    points, _ = points_of(payload, "GitHub contributions per day")
    assert [(date[:10], value) for date, value, _ in points] == [
        ("2026-09-27", 0.0),
        ("2026-09-28", 1.0),
        ("2026-09-29", 5.0),
        ("2026-09-30", 1.0),
    ]


def test_log_lines_are_counted_per_period_with_nanosecond_times():
    # Loki query_range streams: [nanoseconds as text, log line].
    ns = 1790812800 * 10**9
    values = [[str(ns + minutes * 60 * 10**9), "level=error msg=x"] for minutes in (1, 30, 70)]
    payload = {
        "status": "success",
        "data": {"result": [{"stream": {"app": "api"}, "values": values}]},
        "stats": {"summary": {"totalLinesProcessed": 3}},
    }
    points, _ = points_of(payload, "Error log lines per hour")
    assert points == [("2026-10-01T00:00:00Z", 2.0, None), ("2026-10-01T01:00:00Z", 1.0, None)]


def test_values_sharing_a_time_are_split_by_their_label_not_added_up():
    # PyPI Stats: one row per category and date.
    payload = {
        "data": [
            {"category": category, "date": f"2026-10-0{day}", "downloads": day * weight}
            for day in (1, 2)
            for category, weight in (("2", 1), ("3", 100))
        ]
    }
    points, _ = points_of(payload, "PyPI downloads")
    assert points == [
        ("2026-10-01T00:00:00Z", 1.0, {"category": "2"}),
        ("2026-10-01T00:00:00Z", 100.0, {"category": "3"}),
        ("2026-10-02T00:00:00Z", 2.0, {"category": "2"}),
        ("2026-10-02T00:00:00Z", 200.0, {"category": "3"}),
    ]


def test_values_read_by_position_are_named_by_a_list_of_names():
    # GA4 runReport: metricValues in the order of metricHeaders.
    payload = {
        "dimensionHeaders": [{"name": "date"}],
        "metricHeaders": [{"name": "activeUsers"}, {"name": "sessions"}],
        "rows": [
            {
                "dimensionValues": [{"value": f"2026100{day}"}],
                "metricValues": [{"value": str(10 * day)}, {"value": str(15 * day)}],
            }
            for day in (1, 2)
        ],
    }
    points, _ = points_of(payload, "Sessions")
    assert points == [("2026-10-01T00:00:00Z", 15.0, None), ("2026-10-02T00:00:00Z", 30.0, None)]


def test_epoch_milliseconds_date_records_whatever_the_field_is_called():
    payload = {"data": [{"key": 1790812800000 + 86400000 * n, "total": 40 + n} for n in (0, 1)]}
    points, _ = points_of(payload, "Visitors per day")
    assert points == [("2026-10-01T00:00:00Z", 40.0, None), ("2026-10-02T00:00:00Z", 41.0, None)]


def test_series_holding_parallel_times_and_values_keep_their_labels():
    # VictoriaMetrics /api/v1/export: epoch-sized byte counts are values, not times.
    payload = [
        {
            "metric": {"__name__": "mem_free_bytes", "instance": instance},
            "values": [base, base + 1],
            "timestamps": [1790812800000, 1790812860000],
        }
        for instance, base in (("db-1", 2147483648), ("web-1", 1073741824))
    ]
    points, _ = points_of(payload, "Free memory by instance (bytes)")
    assert points == [
        ("2026-10-01T00:00:00Z", 2147483648.0, {"metric.instance": "db-1"}),
        ("2026-10-01T00:00:00Z", 1073741824.0, {"metric.instance": "web-1"}),
        ("2026-10-01T00:01:00Z", 2147483649.0, {"metric.instance": "db-1"}),
        ("2026-10-01T00:01:00Z", 1073741825.0, {"metric.instance": "web-1"}),
    ]


def test_series_of_values_beside_one_list_of_times_for_all():
    # Sentry stats_v2: `intervals` once, each group's values under `series`.
    payload = {
        "intervals": ["2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z"],
        "groups": [
            {"by": {"outcome": "accepted"}, "series": {"sum(quantity)": [1000, 1100]}},
            {"by": {"outcome": "filtered"}, "series": {"sum(quantity)": [10, 20]}},
        ],
    }
    points, _ = points_of(payload, "Events by outcome (daily)")
    assert points == [
        ("2026-10-01T00:00:00Z", 1000.0, {"by.outcome": "accepted"}),
        ("2026-10-01T00:00:00Z", 10.0, {"by.outcome": "filtered"}),
        ("2026-10-02T00:00:00Z", 1100.0, {"by.outcome": "accepted"}),
        ("2026-10-02T00:00:00Z", 20.0, {"by.outcome": "filtered"}),
    ]
