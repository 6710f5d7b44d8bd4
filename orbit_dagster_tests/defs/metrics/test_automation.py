"""The metrics table drives Dagster: catalog sensor, schedules, batches, failures, mirror."""

import datetime as dt
import json

import dagster as dg
import pytest
import sqlalchemy as sa

from orbit_dagster.defs.metrics.resources import RefreshSettings
from orbit_dagster.defs.metrics.sensors import due_metrics, metric_catalog_sensor
from orbit_dagster.defs.operations.sensors import run_failure_sensor
from orbit_dagster.defs.resources import OrbitStore
from orbit_dagster.refresh.jobs import BATCH_JOB, REFRESH_JOB, batch_config, batch_run_config
from orbit_dagster.refresh.plan import plan
from orbit_dagster.store import Store
from orbit_dagster.store import schema as t
from orbit_dagster_tests.servers import json_server

SERIES = {"data": [{"date": f"2026-10-0{d}", "value": d} for d in range(1, 5)]}


@pytest.fixture
def store(orbit_env) -> Store:
    return Store(orbit_env)


@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "series.json"
    path.write_text(json.dumps(SERIES))
    return path


def add(store: Store, metric_id: str, path, schedule: str | None = None) -> None:
    store.add_metric(
        metric_id, name=metric_id, template="file", config={"path": str(path)}, schedule=schedule
    )


def resources(store_url: str, **settings) -> dict:
    return {
        "orbit_store": OrbitStore(database_url=store_url),
        "refresh_settings": RefreshSettings(**settings),
    }


def batches(requests) -> list[list[str]]:
    return [batch_config(r.run_config)["metric_ids"] for r in requests]


def tick(definitions, instance, store_url, cursor=None, **settings):
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources=resources(store_url, **settings),
        definitions=definitions,
    )
    return metric_catalog_sensor(context)


def apply(instance, result: dg.SensorResult) -> None:
    """What the daemon does with a tick's partition requests."""
    for request in result.dynamic_partitions_requests:
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
    assert {batch_config(r.run_config)["mode"] for r in first.run_requests} == {"create"}
    assert first.dynamic_partitions_requests[0].partition_keys == ["a", "b", "c"]
    apply(instance, first)

    unchanged = tick(definitions, instance, orbit_env, cursor=first.cursor, batch_size=2)
    assert isinstance(unchanged, dg.SkipReason)

    add(store, "d", good_file)
    store.delete_metric("a")
    second = tick(definitions, instance, orbit_env, cursor=first.cursor, batch_size=2)
    assert batches(second.run_requests) == [["d"]]
    added, removed = second.dynamic_partitions_requests
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
    context = dg.build_sensor_context(
        instance=instance,
        cursor=an_hour_ago,
        resources=resources(orbit_env),
        definitions=definitions,
    )
    result = sensor(context)
    assert batches(result.run_requests) == [["every-minute"]]
    assert batch_config(result.run_requests[0].run_config)["mode"] == "soft-refresh"
    first_tick = dg.build_sensor_context(
        instance=instance, resources=resources(orbit_env), definitions=definitions
    )
    assert sensor(first_tick).run_requests == []  # no retroactive firing on the first tick


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


def run_batch(definitions, instance, metric_ids, mode="create"):
    return definitions.resolve_job_def(BATCH_JOB).execute_in_process(
        instance=instance,
        run_config=batch_run_config(metric_ids, mode),
        raise_on_error=False,
    )


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


@pytest.mark.parametrize("webhook_status", [200, 500])
def test_failure_sensor_records_the_run_and_posts_an_alert(
    store, good_file, definitions, instance, orbit_env, webhook_status
):
    add(store, "m", good_file)
    result = run_batch(definitions, instance, ["m", "ghost"])
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
    with json_server() as server:
        server.routes["/hook"] = ([webhook_status], {"ok": True})
        context = failure_context(instance, run, failure, orbit_env, f"{server.base_url}/hook")
        run_failure_sensor(context)  # never raises, whatever the webhook answers
    alerts = server.posted
    assert len(alerts) == (1 if webhook_status == 200 else 3)  # 5xx is retried, bounded
    assert alerts[0]["run_id"] == result.run_id
    assert alerts[0]["metric_ids"] == ["m", "ghost"]
    assert alerts[0]["url"].endswith(f"/runs/{result.run_id}")
    assert "ghost" in alerts[0]["error"]
    assert store.get_metric("m")["last_error"] is None  # m itself succeeded in that run


def failure_context(instance, run, failure, store_url, webhook=None):
    return dg.build_run_status_sensor_context(
        sensor_name="run_failure_sensor",
        dagster_instance=instance,
        dagster_run=run,
        dagster_event=failure,
        resources=resources(store_url, alert_webhook_url=webhook),
    ).for_run_failure()


def test_failure_sensor_records_a_run_refused_before_any_step(
    store, good_file, definitions, instance, orbit_env
):
    from orbit_dagster.dagster_api import run_refresh

    add(store, "m", good_file)
    holder = instance.add_run(
        dg.DagsterRun(job_name=REFRESH_JOB, status=dg.DagsterRunStatus.STARTED)
    )
    store.refresh_log.begin(
        "m",
        holder.run_id,
        pipeline_name=REFRESH_JOB,
        mode="create",
        plan=plan("create"),
        is_run_active=lambda _r: True,
    )
    outcome = run_refresh(definitions, instance, "m", "create")
    assert not outcome.success
    run = instance.get_run_by_id(outcome.run_id)
    failure = next(
        e
        for e in instance.all_logs(outcome.run_id)
        if e.dagster_event and e.dagster_event.event_type == dg.DagsterEventType.RUN_FAILURE
    ).dagster_event
    run_failure_sensor(failure_context(instance, run, failure, orbit_env))
    with store.engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT status, error FROM pipeline_runs WHERE run_id = ?"
            if store.engine.dialect.name == "sqlite"
            else "SELECT status, error FROM pipeline_runs WHERE run_id = %s",
            (outcome.run_id,),
        ).one()
    assert row.status == "failed"
    # The metric stays with the run that holds it: its error is not overwritten.
    assert store.get_metric("m")["refresh_run_id"] == holder.run_id
