"""Data-quality checks recorded per metric partition, by a one-partition refresh and by a
batch run, read back from the runs' event logs and from the instance's check state, as the UI
reads them."""

import json

import dagster as dg
import pytest

from orbit_dagster.dagster_api import ensure_metric_partitions, run_refresh
from orbit_dagster.quality import CHECKS
from orbit_dagster.refresh.jobs import BATCH_JOB, batch_run_config
from orbit_dagster.store import Store

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
    assert evaluations(instance, steady.run_id) == {
        ("steady", "has_points"): (True, "ERROR", "10 points stored"),
        ("steady", "finite_values"): (True, "ERROR", "every value is a finite number"),
        ("steady", "no_gaps"): (True, "WARN", "no gaps longer than the usual spacing"),
        ("steady", "no_jumps"): (True, "WARN", "no latest value beyond 10× its recent median"),
    }
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
