"""The store on SQLite and Postgres: catalog, idempotent upserts, atomic replace, cascades."""

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from orbit_dagster.store import (
    MetricBusyError,
    MetricExistsError,
    MetricNotFoundError,
    Point,
    StoreError,
    Transformer,
)
from orbit_dagster.store import schema as t
from orbit_dagster_tests.store.claimed import RUN, add_claimed_metric, claim

CODE = Transformer(
    code="def transform(payload, config):\n    return []\n", generator="test", template="file"
)


def day(n: int) -> dt.datetime:
    return dt.datetime(2026, 10, 1) + dt.timedelta(days=n)


@pytest.fixture
def metric(store):
    return add_claimed_metric(store)


def test_add_get_list_and_duplicate(store):
    store.add_metric("b", name="B", template="file", config={"path": "b"}, organization="org1")
    store.add_metric("a", name="A", template="http-json", config={"url": "http://x"})
    assert [m["id"] for m in store.list_metrics()] == ["a", "b"]
    assert [m["id"] for m in store.list_metrics(organization="org1")] == ["b"]
    assert store.get_metric("b")["config"] == {"path": "b"}
    with pytest.raises(MetricExistsError, match="'a' already exists"):
        store.add_metric("a", name="again", template="file")
    with pytest.raises(MetricNotFoundError):
        store.get_metric("b", organization="org2")


@pytest.mark.parametrize(
    "bad_id",
    ["", " ", "../etc", "a,b", "a b", "a\nb", "x" * 129, "'; DROP TABLE metrics; --", "-x"],
)
def test_hostile_metric_ids_are_refused_and_nothing_is_stored(store, bad_id):
    with pytest.raises(StoreError, match="invalid metric id"):
        store.add_metric(bad_id, name="bad", template="file")
    assert store.list_metrics() == []


def test_upsert_is_idempotent_and_updates_values(store, metric):
    points = [Point(day(i), float(i)) for i in range(3)]
    store.save_points(metric, RUN, points, replace=False, transformer=None)
    store.save_points(metric, RUN, points, replace=False, transformer=None)
    assert store.count_points(metric) == 3
    store.save_points(metric, RUN, [Point(day(0), 42.0)], replace=False, transformer=None)
    assert [p.value for p in store.list_points(metric)] == [42.0, 1.0, 2.0]


def test_dimensions_are_part_of_identity(store, metric):
    points = [
        Point(day(0), 1.0, {"series": "a"}),
        Point(day(0), 2.0, {"series": "b"}),
        Point(day(0), 3.0, None),
    ]
    store.save_points(metric, RUN, points, replace=False, transformer=None)
    store.save_points(metric, RUN, points, replace=False, transformer=None)
    assert sorted(p.value for p in store.list_points(metric)) == [1.0, 2.0, 3.0]


def test_replace_swaps_the_series_and_transformer_in_one_transaction(store, metric):
    store.save_points(
        metric, RUN, [Point(day(i), 1.0) for i in range(5)], replace=False, transformer=CODE
    )
    new_code = Transformer(code=CODE.code + "# v2\n", generator="test", template="file")
    store.save_points(metric, RUN, [Point(day(9), 9.0)], replace=True, transformer=new_code)
    assert [(p.ts, p.value) for p in store.list_points(metric)] == [(day(9), 9.0)]
    assert store.get_transformer("ingestion", metric) == new_code


def test_failed_replace_keeps_old_points_and_transformer(store, metric):
    old = [Point(day(i), float(i)) for i in range(4)]
    store.save_points(metric, RUN, old, replace=False, transformer=CODE)
    # A NOT NULL violation after the delete (a point no transformer output could make).
    broken = [Point(day(7), 1.0), Point(day(8), None)]  # pyright: ignore[reportArgumentType]
    new_code = Transformer(code="changed", generator="test", template="file")
    with pytest.raises(IntegrityError):
        store.save_points(metric, RUN, broken, replace=True, transformer=new_code)
    assert store.list_points(metric) == old
    assert store.get_transformer("ingestion", metric) == CODE


def test_writes_need_the_refresh_lock(store, metric):
    with pytest.raises(MetricBusyError, match="does not hold the refresh lock"):
        store.save_points(metric, "other-run", [Point(day(0), 1.0)], replace=True, transformer=None)
    with pytest.raises(MetricBusyError):
        store.save_chart(metric, "other-run", {"mark": "line"}, transformer=None)
    assert store.count_points(metric) == 0
    assert store.get_chart_config(metric) is None


def test_oversized_dimensions_are_refused_with_a_clear_error(store, metric):
    with pytest.raises(StoreError, match="longer than 1000 characters"):
        store.save_points(
            metric, RUN, [Point(day(0), 1.0, {"k": "x" * 2000})], replace=False, transformer=None
        )


def test_deleting_a_metric_leaves_no_orphans(store, metric):
    store.add_metric("keep", name="Keep", template="file", config={"path": "k"})
    claim(store, "keep")
    for metric_id in (metric, "keep"):
        store.save_points(metric_id, RUN, [Point(day(0), 1.0)], replace=False, transformer=CODE)
        store.save_chart(metric_id, RUN, {"mark": "line"}, transformer=CODE)
    store.delete_metric(metric)
    owned = [
        t.metric_data_points,
        t.ingestion_transformers,
        t.chart_transformers,
        t.chart_configs,
        t.metric_api_logs,
        t.pipeline_runs,
    ]
    with store.engine.connect() as conn:
        for table in owned:
            rows = conn.execute(sa.select(table.c.metric_id)).scalars().all()
            assert metric not in rows, table.name
            assert "keep" in rows, table.name
    with pytest.raises(MetricNotFoundError):
        store.delete_metric(metric)


def inactive(_run_id: str) -> bool:
    """The lock holder has stopped (as Dagster would say of a finished or dead run)."""
    return False


def _save_transformers(store, metric_id: str) -> None:
    store.save_points(metric_id, RUN, [Point(day(0), 1.0)], replace=False, transformer=CODE)
    store.save_chart(metric_id, RUN, {"mark": "line"}, transformer=CODE)


def test_update_changes_fields_in_place_and_outdates_both_transformers(store, metric):
    _save_transformers(store, metric)
    changed = store.update_metric(
        metric,
        {"name": "Renamed", "config": {"path": "x.json", "value_path": "amount"}},
        is_run_active=inactive,
    )
    assert changed == ["name", "config"]
    row = store.get_metric(metric)
    assert (row["name"], row["config"]) == ("Renamed", {"path": "x.json", "value_path": "amount"})
    for kind in ("ingestion", "chart"):
        outdated = store.get_transformer(kind, metric).outdated_reason
        assert outdated == "name changed; config changed (value_path)"
    assert store.count_points(metric) == 1  # points are kept until a hard refresh


def test_update_of_the_schedule_alone_keeps_transformers_current(store, metric):
    _save_transformers(store, metric)
    assert store.update_metric(metric, {"schedule": "0 * * * *"}, is_run_active=inactive) == [
        "schedule"
    ]
    assert store.get_metric(metric)["schedule"] == "0 * * * *"
    assert store.get_transformer("ingestion", metric).outdated_reason is None
    # Nothing differs: nothing is written.
    assert store.update_metric(metric, {"schedule": "0 * * * *"}, is_run_active=inactive) == []


def test_a_new_transformer_clears_the_outdated_mark(store, metric):
    _save_transformers(store, metric)
    store.update_metric(metric, {"description": "new meaning"}, is_run_active=inactive)
    assert store.get_transformer("ingestion", metric).outdated_reason == "description changed"
    _save_transformers(store, metric)
    assert store.get_transformer("ingestion", metric).outdated_reason is None


def test_update_is_refused_while_a_live_run_holds_the_metric(store, metric):
    _save_transformers(store, metric)
    with pytest.raises(MetricBusyError, match=f"refreshed by run {RUN}; nothing was changed"):
        store.update_metric(metric, {"name": "X"}, is_run_active=lambda _run: True)
    assert store.get_metric(metric)["name"] == "Metric one"
    assert store.get_transformer("ingestion", metric).outdated_reason is None
    # A holder that is no longer active does not block the update.
    assert store.update_metric(metric, {"name": "X"}, is_run_active=inactive) == ["name"]


def test_update_refuses_unknown_fields_and_metrics(store, metric):
    with pytest.raises(StoreError, match="cannot update id, template; updatable: name"):
        store.update_metric(metric, {"id": "m2", "template": "x"}, is_run_active=inactive)
    with pytest.raises(MetricNotFoundError):
        store.update_metric("nope", {"name": "X"}, is_run_active=inactive)
    assert store.get_metric(metric)["template"] == "file"
