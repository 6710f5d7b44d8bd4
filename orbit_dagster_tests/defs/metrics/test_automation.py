"""The metrics table drives Dagster: catalog sensor, schedules, batches, the pipelines mirror."""

import datetime as dt

import dagster as dg
import sqlalchemy as sa

from orbit_dagster.defs.metrics.sensors import due_metrics, metric_catalog_sensor
from orbit_dagster.refresh.jobs import BATCH_JOB, REFRESH_JOB, batch_config
from orbit_dagster.store import Store
from orbit_dagster.store import schema as t
from orbit_dagster_tests.defs.metric_batches import add, good_file, resources, run_batch, store

__all__ = ["good_file", "store"]  # fixtures used by the tests below


def batches(requests) -> list[list[str]]:
    return [batch_config(r.run_config)["metric_ids"] for r in requests]


def tick(definitions, instance, store_url, cursor=None, **settings) -> dg.SensorResult:
    """One catalog sensor tick that found work (or nothing to skip over)."""
    result = evaluate(metric_catalog_sensor, definitions, instance, store_url, cursor, **settings)
    assert isinstance(result, dg.SensorResult), result
    return result


def evaluate(sensor, definitions, instance, store_url, cursor=None, **settings):
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources=resources(store_url, **settings),
        definitions=definitions,
    )
    return sensor(context)


def apply(instance, result: dg.SensorResult) -> None:
    """What the daemon does with a tick's partition requests."""
    for request in result.dynamic_partitions_requests or []:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(request.partitions_def_name, request.partition_keys)
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(request.partitions_def_name, key)


def test_catalog_sensor_adds_and_removes_partitions_with_one_create_run_each(
    store, good_file, definitions, instance, orbit_env
):
    for metric_id in ("a", "b", "c"):
        add(store, metric_id, good_file)
    first = tick(definitions, instance, orbit_env, batch_size=2)
    assert batches(first.run_requests) == [["a", "b"], ["c"]]
    assert {batch_config(r.run_config)["mode"] for r in first.run_requests or []} == {"create"}
    assert (first.dynamic_partitions_requests or [])[0].partition_keys == ["a", "b", "c"]
    apply(instance, first)

    unchanged = evaluate(
        metric_catalog_sensor, definitions, instance, orbit_env, first.cursor, batch_size=2
    )
    assert isinstance(unchanged, dg.SkipReason)

    add(store, "d", good_file)
    store.delete_metric("a")
    second = tick(definitions, instance, orbit_env, cursor=first.cursor, batch_size=2)
    assert batches(second.run_requests) == [["d"]]
    added, removed = second.dynamic_partitions_requests or []
    assert added.partition_keys == ["d"] and removed.partition_keys == ["a"]
    apply(instance, second)
    assert set(instance.get_dynamic_partitions("metric")) == {"b", "c", "d"}

    # A lost cursor never re-requests work: known metrics already have their partition.
    again = tick(definitions, instance, orbit_env, cursor=None)
    assert again.run_requests == [] and again.dynamic_partitions_requests == []


def test_catalog_sensor_mirrors_pipelines_every_tick(store, definitions, instance, orbit_env):
    tick(definitions, instance, orbit_env)
    pipelines = {row["name"]: row for row in store.list_pipelines()}
    assert {REFRESH_JOB, BATCH_JOB, "metric_points", "metric_chart"} <= set(pipelines)
    assert pipelines["default_refresh_schedule"]["schedule"] == "0 * * * *"
    assert pipelines["default_refresh_schedule"]["is_active"] is True
    assert pipelines["metric_catalog_sensor"]["kind"] == "sensor"


def test_pipelines_mirror_is_idempotent_and_never_deletes(store):
    entries = [
        {"name": "job_a", "kind": "job", "description": "A", "schedule": None, "is_active": True},
        {"name": "job_b", "kind": "job", "description": "B", "schedule": None, "is_active": True},
    ]
    assert store.sync_pipelines(entries) == {"mirrored": 2, "retired": 0}
    assert store.sync_pipelines(entries) == {"mirrored": 2, "retired": 0}
    assert store.sync_pipelines(entries[:1]) == {"mirrored": 1, "retired": 1}
    rows = {row["name"]: row["is_active"] for row in store.list_pipelines()}
    assert rows == {"job_a": True, "job_b": False}


def utc(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, 25, hour, minute, tzinfo=dt.UTC)


def test_a_metric_cron_fires_at_its_time_only():
    schedules = {"six": "0 6 * * *", "hourly": "0 * * * *", "default": None}
    assert due_metrics(schedules, utc(5, 59), utc(6, 0)) == ["six", "hourly"]
    assert due_metrics(schedules, utc(6, 0), utc(6, 30)) == []
    assert due_metrics(schedules, utc(6, 30), utc(7, 0)) == ["hourly"]
    fired = [
        h
        for h in range(24)
        if "six" in due_metrics(schedules, utc(h), utc(h, 59) + dt.timedelta(minutes=1))
    ]
    assert fired == [5]  # the (05:00, 06:00] window is the only one holding 06:00


def test_metric_schedule_sensor_reads_schedules_each_tick(
    store, good_file, definitions, instance, orbit_env
):
    add(store, "every-minute", good_file, schedule="* * * * *")
    add(store, "yearly", good_file, schedule="0 0 1 1 *")
    add(store, "default", good_file)
    sensor = definitions.resolve_sensor_def("metric_schedule_sensor")
    an_hour_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    result = evaluate(sensor, definitions, instance, orbit_env, an_hour_ago)
    assert batches(result.run_requests) == [["every-minute"]]
    assert batch_config(result.run_requests[0].run_config)["mode"] == "soft-refresh"
    first_tick = evaluate(sensor, definitions, instance, orbit_env)
    assert first_tick.run_requests == []  # no retroactive firing on the first tick


def test_default_schedule_soft_refreshes_metrics_without_their_own_cron(
    store, good_file, definitions, orbit_env
):
    for metric_id in ("m1", "m2", "m3"):
        add(store, metric_id, good_file)
    add(store, "own", good_file, schedule="0 6 * * *")
    schedule = definitions.resolve_schedule_def("default_refresh_schedule")
    context = dg.build_schedule_context(
        scheduled_execution_time=utc(7), resources=resources(orbit_env, batch_size=2)
    )
    requests = list(schedule.evaluate_tick(context).run_requests)
    assert batches(requests) == [["m1", "m2"], ["m3"]]
    assert {batch_config(r.run_config)["mode"] for r in requests} == {"soft-refresh"}
    assert len({r.run_key for r in requests}) == 2


def pipeline_names(store: Store, run_id: str) -> set[str]:
    runs = t.pipeline_runs
    with store.engine.connect() as conn:
        query = sa.select(runs.c.pipeline_name).where(runs.c.run_id == run_id)
        return set(conn.execute(query).scalars())


def test_a_batch_with_one_broken_metric_saves_the_others(
    store, good_file, tmp_path, definitions, instance
):
    add(store, "good1", good_file)
    add(store, "broken", tmp_path / "missing.json")
    add(store, "good2", good_file)
    result = run_batch(definitions, instance, ["good1", "broken", "good2"])
    assert not result.success
    assert store.count_points("good1") == store.count_points("good2") == 4
    assert store.count_points("broken") == 0
    broken = store.get_metric("broken")
    assert "does not exist" in broken["last_error"] and broken["refresh_status"] is None
    for key in ("metric_points", "metric_chart"):
        assert instance.get_materialized_partitions(dg.AssetKey(key)) == {"good1", "good2"}
    steps = store.refresh_log.steps("good1", result.run_id)
    assert [row["status"] for row in steps].count("success") == 7
    assert store.refresh_log.steps("broken", result.run_id)[0]["status"] == "failed"
    # Each metric's run row names the job that ran it (the batch job, not the one-partition one).
    assert pipeline_names(store, result.run_id) == {BATCH_JOB}
