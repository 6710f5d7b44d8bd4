"""Data-quality checks recorded per metric partition, by a one-partition refresh and by a
batch run, read back from the runs' event logs and from the instance's check state, as the UI
reads them."""

import datetime as dt
import json

import dagster as dg
import pytest

from orbit_dagster.dagster_api import ensure_metric_partitions, run_refresh
from orbit_dagster.quality import CHECKS
from orbit_dagster.refresh.jobs import BATCH_JOB, batch_run_config
from orbit_dagster.store import Store
from orbit_dagster.store import schema as t

STEADY = [{"date": f"2026-10-{d:02d}", "value": 100 + d % 3} for d in range(1, 11)]
# Three days missing, then a value fifty times the recent median.
ODD = [p for p in STEADY if p["date"] not in ("2026-10-05", "2026-10-06", "2026-10-07")] + [
    {"date": "2026-10-11", "value": 5000}
]


@pytest.fixture
def store(orbit_env) -> Store:
    return Store(orbit_env)


def add(store: Store, tmp_path, metric_id: str, points: list[dict]) -> None:
    path = tmp_path / f"{metric_id}.json"
    path.write_text(json.dumps(points))
    store.add_metric(metric_id, name="Signups", template="file", config={"path": str(path)})


def evaluations(instance: dg.DagsterInstance, run_id: str) -> dict[tuple[str, str], tuple]:
    """(partition, check) → (passed, severity, description) of the run's check evaluations."""
    found = {}
    records = instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    for record in records:
        event = record.dagster_event
        assert event is not None
        data = event.event_specific_data
        assert isinstance(data, dg.AssetCheckEvaluation) and data.asset_key.path == [
            "metric_points"
        ]
        found[(data.partition, data.check_name)] = (
            data.passed,
            data.severity.value,
            data.description,
        )
    return found


def test_a_refresh_records_every_check_for_its_partition(definitions, instance, store, tmp_path):
    add(store, tmp_path, "steady", STEADY)
    add(store, tmp_path, "odd", ODD)
    steady = run_refresh(definitions, instance, "steady", "create")
    odd = run_refresh(definitions, instance, "odd", "create")
    assert steady.success and odd.success, (steady.error, odd.error)
    steady_checks = evaluations(instance, steady.run_id)
    fresh = steady_checks.pop(("steady", "fresh"))
    assert steady_checks == {
        ("steady", "has_points"): (True, "ERROR", "10 points stored"),
        ("steady", "finite_values"): (True, "ERROR", "every value is a finite number"),
        ("steady", "no_gaps"): (True, "WARN", "no gaps longer than the usual spacing"),
        ("steady", "no_jumps"): (True, "WARN", "no latest value beyond 10× its recent median"),
        ("steady", "overlap_agrees"): (
            True,
            "WARN",
            "no stored value overlapped the new points (a series' latest period aside)",
        ),
    }
    # The run's own save is the refresh the freshness counts from.
    assert fresh[:2] == (True, "WARN") and fresh[2].startswith("last refreshed ")
    odd_checks = evaluations(instance, odd.run_id)
    assert odd_checks[("odd", "has_points")][0] is True
    assert odd_checks[("odd", "no_gaps")][:2] == (False, "WARN")
    assert "2026-10-04T00:00:00Z → 2026-10-08T00:00:00Z" in odd_checks[("odd", "no_gaps")][2]
    assert odd_checks[("odd", "no_jumps")][:2] == (False, "WARN")
    assert "5000 against a recent median of" in odd_checks[("odd", "no_jumps")][2]


def test_a_batch_run_records_the_checks_of_each_metric(definitions, instance, store, tmp_path):
    add(store, tmp_path, "steady", STEADY)
    add(store, tmp_path, "odd", ODD)
    ensure_metric_partitions(instance, ["steady", "odd"])
    result = definitions.resolve_job_def(BATCH_JOB).execute_in_process(
        instance=instance, run_config=batch_run_config(["steady", "odd"], "create")
    )
    assert result.success
    checks = evaluations(instance, result.run_id)
    assert {partition for partition, _ in checks} == {"steady", "odd"}
    assert all(checks[("steady", name)][0] for name in ("has_points", "no_gaps", "no_jumps"))
    assert checks[("odd", "no_gaps")][0] is False and checks[("odd", "no_jumps")][0] is False


def shown_states(instance: dg.DagsterInstance, metric_id: str) -> dict[str, str]:
    """check → what the UI shows for this partition: the status of the check's latest
    evaluation if it checked the partition's latest materialization, else nothing ("-")."""
    keys = [dg.AssetCheckKey(dg.AssetKey("metric_points"), name) for name in CHECKS]
    infos = instance.event_log_storage.get_asset_check_partition_info(
        keys, partition_keys=[metric_id]
    )
    return {
        info.check_key.name: info.latest_execution_status.value if info.is_current else "-"
        for info in infos
    }


def test_batch_runs_keep_each_partitions_check_state_current(
    definitions, instance, store, tmp_path
):
    add(store, tmp_path, "steady", STEADY)
    ensure_metric_partitions(instance, ["steady"])
    batch = definitions.resolve_job_def(BATCH_JOB)
    passing = dict.fromkeys(CHECKS, "SUCCEEDED")
    spike = [{"date": "2026-10-11", "value": 5000}]
    calm = [{"date": "2026-10-11", "value": 101}]  # the same day again: the upsert replaces it
    # The series passes, then its latest value jumps, then the jump is corrected.
    for mode, extra, expected in [
        ("create", [], passing),
        ("soft-refresh", spike, {**passing, "no_jumps": "FAILED"}),
        ("soft-refresh", calm, passing),
    ]:
        (tmp_path / "steady.json").write_text(json.dumps(STEADY + extra))
        result = batch.execute_in_process(
            instance=instance, run_config=batch_run_config(["steady"], mode)
        )
        assert result.success
        assert shown_states(instance, "steady") == expected, mode


def test_a_soft_refresh_that_changes_stored_history_fails_overlap_agrees(
    definitions, instance, store, tmp_path
):
    add(store, tmp_path, "steady", STEADY)
    assert run_refresh(definitions, instance, "steady", "create").success
    # The source revises two past days, and today's (the latest) value grows, as they do.
    revised = [
        {**p, "value": {"2026-10-03": 400, "2026-10-04": 500, "2026-10-10": 160}.get(
            p["date"], p["value"]
        )}
        for p in STEADY
    ]  # fmt: skip
    (tmp_path / "steady.json").write_text(json.dumps(revised))
    soft = run_refresh(definitions, instance, "steady", "soft-refresh")
    assert soft.success, soft.error
    passed, severity, description = evaluations(instance, soft.run_id)[("steady", "overlap_agrees")]
    assert (passed, severity) == (False, "WARN")
    assert description.startswith("2 of 9 stored values changed")
    assert "2026-10-03T00:00:00Z: 100 → 400; 2026-10-04T00:00:00Z: 101 → 500" in description
    assert shown_states(instance, "steady")["overlap_agrees"] == "FAILED"
    # The points are the source's: the check warns, it does not refuse them.
    assert {p.ts.day: p.value for p in store.list_points("steady")}[3] == 400
    assert store.get_metric("steady")["last_revision"]["changed"] == 2
    # The same source again: nothing changes, the warning clears.
    again = run_refresh(definitions, instance, "steady", "soft-refresh")
    assert evaluations(instance, again.run_id)[("steady", "overlap_agrees")][0] is True
    assert shown_states(instance, "steady")["overlap_agrees"] == "SUCCEEDED"


def test_pipeline_health_reports_a_metric_gone_stale_once_and_its_refresh_clears_it(
    definitions, instance, store, tmp_path
):
    add(store, tmp_path, "steady", STEADY)
    add(store, tmp_path, "idle", STEADY)
    for metric_id in ("steady", "idle"):
        assert run_refresh(definitions, instance, metric_id, "create").success
    # Nothing has refreshed `idle` for three days (the default schedule is hourly).
    with store.engine.begin() as conn:
        conn.execute(
            t.metrics.update()
            .where(t.metrics.c.id == "idle")
            .values(last_fetched_at=dt.datetime.now() - dt.timedelta(days=3))
        )
    health = definitions.resolve_job_def("pipeline_health_job")
    first = health.execute_in_process(instance=instance)
    assert first.success
    reported = evaluations(instance, first.run_id)
    assert list(reported) == [("idle", "fresh")]
    passed, severity, description = reported[("idle", "fresh")]
    assert (passed, severity) == (False, "WARN")
    assert "stale after 2 × 1 hours (0 * * * *)" in description
    assert shown_states(instance, "idle")["fresh"] == "FAILED"
    assert shown_states(instance, "steady")["fresh"] == "SUCCEEDED"
    # The next tick has nothing new to say.
    second = health.execute_in_process(instance=instance)
    assert evaluations(instance, second.run_id) == {}
    # A refresh makes it fresh again, and the UI shows that.
    assert run_refresh(definitions, instance, "idle", "soft-refresh").success
    assert shown_states(instance, "idle")["fresh"] == "SUCCEEDED"


def test_pipeline_health_carries_dagsters_freshness_policy(definitions):
    spec = definitions.resolve_assets_def("pipeline_health").specs_by_key[
        dg.AssetKey("pipeline_health")
    ]
    assert spec.freshness_policy == dg.FreshnessPolicy.time_window(
        fail_window=dt.timedelta(minutes=30), warn_window=dt.timedelta(minutes=20)
    )
