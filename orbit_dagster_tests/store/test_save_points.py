"""Saving points on both engines (COPY on Postgres, executemany on SQLite): hostile values
come back exactly, upserts update, a hard refresh replaces, and a failed save changes nothing."""

import datetime as dt
import math

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from orbit_dagster.store import MetricBusyError, Point, Store, Transformer
from orbit_dagster.store import schema as t
from orbit_dagster_tests.conftest import empty_store
from orbit_dagster_tests.store.claimed import RUN, add_claimed_metric, claim
from orbit_dagster_tests.store.test_store import CODE, day

UTC = dt.UTC
PLUS_0530 = dt.timezone(dt.timedelta(hours=5, minutes=30))
MINUS_0800 = dt.timezone(dt.timedelta(hours=-8))

# Everything COPY's text and CSV formats treat specially, and what JSON and SQL escape.
HOSTILE_TEXT = [
    "tab\there",
    "new\nline",
    "carriage\r\nreturn",
    "back\\slash",
    "\\",
    '"quoted", and comma',
    "'; DROP TABLE metric_data_points; --",
    "\\N",
    "NULL",
    "",
    " ",
    "\\.",
    "line\n\\.\nafter end-of-data marker",
    "unicode: é ß 日本語 🚀 \u200b",
    "\u2028\u2029",
    '{"not": "json"}',
]


def key_length(dimensions: dict[str, str]) -> int:
    return len(Point(day(0), 0.0, dimensions).dimensions_key)


def longest_key_dimensions() -> dict[str, str]:
    """Dimensions whose canonical key is exactly the 1000-character limit."""
    # A backslash is two characters in JSON: the last one must not be cut in half.
    filler = "x" * (t.DIMENSIONS_KEY_LENGTH - key_length({"long": ""}) - 2)
    dimensions = {"long": filler + "\\"}
    assert key_length(dimensions) == t.DIMENSIONS_KEY_LENGTH
    return dimensions


def hostile_points() -> list[Point]:
    dimensions = [{"k": text} for text in HOSTILE_TEXT] + [
        {text: "as a key"} for text in HOSTILE_TEXT if text
    ]
    dimensions += [{"a": "1", "b": "2", "\t": "\n"}, longest_key_dimensions(), {}, None]
    values = [1e308, -1e308, -0.0, 0.0, 5e-324, 2.2250738585072014e-308, 1 / 3, -123456.789]
    times = [
        dt.datetime(2026, 3, 29, 1, 30, tzinfo=PLUS_0530),
        dt.datetime(2026, 11, 1, 23, 59, 59, 999999, tzinfo=MINUS_0800),
        dt.datetime(2026, 10, 1, 12, 0, 0, 1),
        dt.datetime(1, 1, 1),
        dt.datetime(9999, 12, 31, 23, 59, 59, 999999),
    ]
    return [
        Point(times[i % len(times)], values[i % len(values)], dims)
        for i, dims in enumerate(dimensions)
    ]


def as_stored(point: Point) -> tuple:
    """What reading a point back must give: naive UTC time, the value's exact bits.

    Zero's sign aside: SQLite stores a whole REAL as an integer, so -0.0 comes back 0.0 (the
    sign is checked on Postgres below).
    """
    ts = point.ts
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts, point.dimensions_key, (point.value + 0.0).hex(), point.dimensions


def stored(store, metric_id: str) -> list[tuple]:
    return sorted(as_stored(point) for point in store.list_points(metric_id))


def expected(points: list[Point]) -> list[tuple]:
    return sorted(as_stored(point) for point in points)


@pytest.fixture
def metric(store):
    return add_claimed_metric(store)


def postgres_store(url: str) -> Store:
    """The emptied Postgres store with metric m1 claimed by RUN, for Postgres-only tests."""
    empty_store(url)
    store = Store(url)
    add_claimed_metric(store)
    return store


@pytest.mark.parametrize("replace", [False, True], ids=["first-save", "hard-refresh"])
def test_hostile_values_come_back_exactly(store, metric, replace):
    points = hostile_points()
    assert store.save_points(metric, RUN, points, replace=replace, transformer=None) == len(points)
    assert stored(store, metric) == expected(points)
    # The same points again, as a soft refresh, change nothing.
    store.save_points(metric, RUN, points, replace=False, transformer=None)
    assert stored(store, metric) == expected(points)


@pytest.mark.parametrize("replace", [False, True], ids=["soft", "hard"])
def test_negative_zero_keeps_its_sign_on_postgres(postgres_url, replace):
    store = postgres_store(postgres_url)
    store.save_points("m1", RUN, [Point(day(0), 1.0)], replace=False, transformer=None)
    store.save_points("m1", RUN, [Point(day(0), -0.0)], replace=replace, transformer=None)
    [point] = store.list_points("m1")
    assert math.copysign(1.0, point.value) == -1.0


def test_a_soft_refresh_updates_existing_points_and_adds_new_ones(store, metric):
    old = hostile_points()
    store.save_points(metric, RUN, old, replace=False, transformer=None)
    changed = [Point(p.ts, p.value / 2 + 1, p.dimensions) for p in old[::2]]
    added = [Point(day(i), float(i), {"k": "new\tone"}) for i in range(3)]
    store.save_points(metric, "run-1", changed + added, replace=False, transformer=CODE)
    assert stored(store, metric) == expected(changed + old[1::2] + added)
    assert store.get_transformer("ingestion", metric) == CODE


def test_a_hard_refresh_replaces_every_point(store, metric):
    store.save_points(metric, RUN, hostile_points(), replace=False, transformer=None)
    new = [Point(day(i), float(i), {"k": "\\N"}) for i in range(4)]
    store.save_points(metric, RUN, new, replace=True, transformer=None)
    assert stored(store, metric) == expected(new)


@pytest.mark.parametrize("replace", [False, True], ids=["soft", "hard"])
def test_the_last_of_duplicate_points_wins(store, metric, replace):
    """One save holding the same (time, dimensions) twice keeps the later value, as before."""
    same_instant = dt.datetime(2026, 10, 1, 5, 30, tzinfo=PLUS_0530)
    points = [Point(day(0), 1.0, {"k": "a"}), Point(day(1), 2.0), Point(same_instant, 3.0)]
    points += [Point(day(0), 4.0, {"k": "a"})]
    assert store.save_points(metric, RUN, points, replace=replace, transformer=None) == 3
    assert stored(store, metric) == expected(points[1:])


@pytest.mark.parametrize("replace", [False, True], ids=["soft", "hard"])
def test_a_save_refused_by_the_lock_leaves_the_old_points(store, metric, replace):
    old = hostile_points()
    store.save_points(metric, RUN, old, replace=False, transformer=CODE)
    claim(store, metric, "other-run", active=lambda _run: False)  # another run took the lock
    new_code = Transformer(code="changed", generator="test", template="file")
    with pytest.raises(MetricBusyError, match="does not hold the refresh lock"):
        store.save_points(metric, RUN, [Point(day(1), 9.0)], replace=replace, transformer=new_code)
    assert stored(store, metric) == expected(old)
    assert store.get_transformer("ingestion", metric) == CODE


@pytest.mark.parametrize("replace", [False, True], ids=["soft", "hard"])
def test_a_bad_row_late_in_a_large_save_leaves_the_old_points(store, metric, replace):
    old = hostile_points()
    store.save_points(metric, RUN, old, replace=False, transformer=CODE)
    new = [Point(day(0) + dt.timedelta(minutes=i), float(i)) for i in range(20_000)]
    new.append(Point(day(-1), None))  # pyright: ignore[reportArgumentType]  # NOT NULL
    new_code = Transformer(code="changed", generator="test", template="file")
    with pytest.raises(IntegrityError):
        store.save_points(metric, RUN, new, replace=replace, transformer=new_code)
    assert stored(store, metric) == expected(old)
    assert store.get_transformer("ingestion", metric) == CODE


@pytest.mark.parametrize("replace", [False, True], ids=["soft", "hard"])
def test_a_row_postgres_cannot_read_leaves_the_old_points(postgres_url, replace):
    """A lone surrogate is not JSON Postgres accepts: the save fails inside the COPY."""
    store = postgres_store(postgres_url)
    old = hostile_points()
    store.save_points("m1", RUN, old, replace=False, transformer=CODE)
    new = [Point(day(i), float(i)) for i in range(5_000)] + [Point(day(0), 1.0, {"k": "\ud800"})]
    with pytest.raises(DBAPIError, match="surrogate"):
        store.save_points("m1", RUN, new, replace=replace, transformer=None)
    assert stored(store, "m1") == expected(old)
    with store.engine.connect() as conn:  # the connection went back to the pool usable
        assert conn.execute(sa.text("select 1")).scalar() == 1
