"""Reading a metric's intent from its words, matching fields against it, and choosing among
candidate series by it: hints win, and a tie nothing breaks is refused with the candidates."""

import pytest

from orbit_dagster.transformers import GenerationError, run_transformer
from orbit_dagster.transformers.builtin import generate_ingestion
from orbit_dagster.transformers.builtin.intent import read_intent
from orbit_dagster.transformers.builtin.matching import looks_like_identifier, match_field


@pytest.mark.parametrize(
    ("name", "aggregation", "granularity", "words"),
    [
        ("Orders per day", None, "day", ("orders",)),
        ("Net revenue per day", "sum", "day", ("net", "revenue")),
        ("Questions per week", None, "week", ("questions",)),
        ("New signups (daily)", None, "day", ("signups",)),
        ("Average response time (hourly)", "avg", "hour", ("response", "average")),
        ("max temperature", "max", None, ("temperature", "max")),
        ("close", "last", None, ("close",)),
        ("Number of deploys each month", "count", "month", ("deploys",)),
        (
            "Strongest earthquake per day (magnitude)",
            "max",
            "day",
            ("strongest", "earthquake", "magnitude"),
        ),
    ],
)
def test_the_name_gives_aggregation_granularity_and_measure_words(
    name, aggregation, granularity, words
):
    intent = read_intent(name)
    assert (intent.aggregation, intent.granularity, intent.measure_words) == (
        aggregation,
        granularity,
        words,
    )


def test_the_name_wins_over_the_description_and_by_words_name_dimensions():
    intent = read_intent("Revenue per week by country", "daily sum of order totals")
    assert intent.granularity == "week"
    assert intent.aggregation == "sum"  # only the description says how to combine
    assert intent.by_words == ("country",)
    assert "country" not in intent.measure_words


@pytest.mark.parametrize(
    ("path", "name", "better_than"),
    [
        ("total_price", "Revenue", "total_tax"),
        ("stargazers_count", "Stars", "forks_count"),
        ("daily.temperature_2m_max", "Max temperature", "daily.apparent_temperature_max"),
        ("sum.requests", "Requests", "sum.cachedRequests"),
        ("aggregations.sales.buckets.revenue.value", "Revenue", "doc_count"),
        ("properties.mag", "Earthquake magnitude", "properties.sig"),
        ("days.tempmin", "Min temperature", "days.tempmax"),
        ("nb_visits", "Visits", "nb_visits_converted"),
    ],
)
def test_the_field_the_name_names_scores_above_its_neighbour(path, name, better_than):
    intent = read_intent(name)
    assert match_field(path, intent).score > match_field(better_than, intent).score


def test_a_parent_alone_does_not_name_a_field():
    # `commit.comment_count` of GitHub commits is no "commits".
    assert match_field("commit.comment_count", read_intent("GitHub commits")).score == 0


@pytest.mark.parametrize("path", ["id", "repo_id", "order_number", "per_page", "total_pages"])
def test_identifiers_and_pagination_are_not_measures(path):
    assert looks_like_identifier(path)


# -- choosing ----------------------------------------------------------------------------

ORDERS = [
    {
        "id": 100 + n,
        "created_at": f"2026-10-0{1 + n // 3}T{8 + n:02d}:15:00Z",
        "total_price": "10.5",
    }
    for n in range(7)
]


def extract(payload, name, **hints):
    generated = generate_ingestion(payload, template="http-json", name=name, hints=hints)
    return generated, run_transformer(generated.code, payload, kind="ingestion")


def test_orders_per_day_are_counted_and_revenue_per_day_summed():
    counted, points = extract(ORDERS, "Orders per day")
    assert [(p["date"][:10], p["value"]) for p in points] == [
        ("2026-10-01", 3.0),
        ("2026-10-02", 3.0),
        ("2026-10-03", 1.0),
    ]
    assert "counting records" in counted.note and "value_path=total_price" in counted.note
    summed, points = extract(ORDERS, "Net revenue per day")
    assert [p["value"] for p in points] == [31.5, 31.5, 10.5]
    assert summed.note.startswith("Chose total_price (records at top level), sum per day")


def test_hints_win_over_the_name():
    _, points = extract(ORDERS, "Net revenue per day", aggregation="count", granularity="month")
    assert points == [{"date": "2026-10-01T00:00:00Z", "value": 7.0, "dimensions": None}]


WEATHER = {
    "latitude": 52.52,
    "daily": {
        "time": ["2026-10-01", "2026-10-02"],
        "temperature_2m_max": [15.1, 16.4],
        "temperature_2m_min": [7.2, 8.0],
        "precipitation_sum": [0.0, 2.5],
    },
}


def test_parallel_daily_variables_are_chosen_by_name():
    generated, points = extract(WEATHER, "Max temperature in Berlin (°C)")
    assert [p["value"] for p in points] == [15.1, 16.4]
    assert "value_path=daily.temperature_2m_min" in generated.note
    assert "value_path=daily.precipitation_sum" in generated.note


def test_a_tie_nothing_breaks_is_refused_with_the_hint_for_each_candidate():
    with pytest.raises(GenerationError) as refusal:
        generate_ingestion(WEATHER, template="http-json", name="Berlin weather")
    message = str(refusal.value)
    assert "cannot tell which series the metric 'Berlin weather' is about" in message
    for path in ("temperature_2m_max", "temperature_2m_min", "precipitation_sum"):
        assert f"value_path=daily.{path}" in message
    # The hint it names does pick that series.
    _, points = extract(WEATHER, "Berlin weather", value_path="daily.precipitation_sum")
    assert [p["value"] for p in points] == [0.0, 2.5]


def test_the_docstring_names_the_choice_and_the_hints_for_the_others():
    generated, _ = extract(WEATHER, "Precipitation (daily)")
    docstring = generated.code.split('"""')[1]
    assert "Reads daily.precipitation_sum (parallel at daily) because: matches" in docstring
    assert (
        "- daily.temperature_2m_max (parallel at daily): value_path=daily.temperature_2m_max"
        in docstring
    )


def test_a_snapshot_takes_the_number_the_name_names():
    repo = {"id": 1, "size": 900, "forks_count": 9, "stargazers_count": 80, "watchers": 80}
    generated, [point] = extract(repo, "GitHub stars")
    assert point["value"] == 80.0
    coverage = {"name": "orbit", "totals": {"files": 120, "lines": 5400, "coverage": 87.5}}
    _, [point] = extract(coverage, "Test coverage (%)")
    assert point["value"] == 87.5


def test_initials_of_the_name_name_a_field():
    payload = {
        "data": [{"date": f"2026-10-0{d}", "dau": 100 + d, "wau": 500, "mau": 2000} for d in (1, 2)]
    }
    _, points = extract(payload, "Daily active users")
    assert [p["value"] for p in points] == [101.0, 102.0]


def test_weekly_rows_starting_on_sunday_are_read_not_counted():
    # GitHub stats/commit_activity: one row per week, weeks starting on Sunday.
    sunday = 1790467200  # 2026-09-27
    payload = [
        {"week": sunday + 604800 * n, "total": 10 + n, "days": [1, 2, 3, 4, 0, 0, 0]}
        for n in range(3)
    ]
    _, points = extract(payload, "Commits per week")
    assert [p["value"] for p in points] == [10.0, 11.0, 12.0]
