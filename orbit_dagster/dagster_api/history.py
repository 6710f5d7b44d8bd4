"""Run history and re-execution, for `orbit runs`, `orbit resume` and `orbit recover`.

The runs are Dagster's (its run storage in `DAGSTER_HOME` is the history); what each run did
to each metric, step by step, is the Orbit store's step log. Re-execution is Dagster's own
"from failure", run in this process as `orbit refresh` runs: the steps that succeeded are not
run again, and their outputs are read from the parent run.
"""

import datetime as dt
from functools import cache
from typing import Any

import dagster as dg

from orbit_dagster.dagster_api import console_logs
from orbit_dagster.dagster_api.failures import failure_reason
from orbit_dagster.dagster_api.interrupted import (
    ACTIVE_STATUSES,
    INTERRUPTED_TAG,
    PARENT_RUN_TAG,
    recover,
    run_is_active,
)
from orbit_dagster.documents.jobs import DOCUMENT_JOB
from orbit_dagster.refresh.jobs import BATCH_JOB, REFRESH_JOB, run_metric_ids
from orbit_dagster.store import Store
from orbit_dagster.store import step_log as s

# Dagster's tags of a run's lineage: a re-execution names its parent and its root, as the
# UI's re-execution does (how `interrupted_runs` knows a run was resumed).
ROOT_RUN_TAG = "dagster/root_run_id"


class RunHistoryError(Exception):
    """A run that is not there, or cannot be resumed; the message says why."""


@cache
def _definitions() -> dg.Definitions:
    from orbit_dagster.definitions import defs

    return defs()


# Module-level job factories: `dg.reconstructable` needs a function it can import by name.
def refresh_metric_job() -> dg.JobDefinition:
    return _definitions().resolve_job_def(REFRESH_JOB)


def refresh_metrics_batch_job() -> dg.JobDefinition:
    return _definitions().resolve_job_def(BATCH_JOB)


def process_document_job() -> dg.JobDefinition:
    return _definitions().resolve_job_def(DOCUMENT_JOB)


RESUMABLE = {
    REFRESH_JOB: refresh_metric_job,
    BATCH_JOB: refresh_metrics_batch_job,
    DOCUMENT_JOB: process_document_job,
}


def statuses() -> list[str]:
    """The run statuses `orbit runs --status` accepts, as Dagster names them (lower case)."""
    return [status.value.lower() for status in dg.DagsterRunStatus]


def list_runs(
    instance: dg.DagsterInstance,
    store: Store,
    *,
    metric_id: str | None = None,
    status: str | None = None,
    limit: int = 20,
) -> list[dict[str, Any]]:
    """The newest runs first, of one metric (the runs its step log knows) and/or one status."""
    if status is not None and status.lower() not in statuses():
        raise RunHistoryError(
            f"unknown run status {status!r}; choose one of: {', '.join(statuses())}"
        )
    run_ids = None if metric_id is None else store.refresh_log.run_ids(metric_id)
    if run_ids == []:
        return []
    records = instance.get_run_records(
        filters=dg.RunsFilter(
            run_ids=run_ids,
            statuses=[dg.DagsterRunStatus(status.upper())] if status else None,
        ),
        limit=limit,
    )
    return [_run_row(instance, record) for record in records]


def run_detail(instance: dg.DagsterInstance, store: Store, run_id: str) -> dict[str, Any]:
    """One run: its row, Dagster's steps (status, duration) and, per metric it refreshed,
    the step log (status, duration, error, and the fetch's request log and response excerpt)."""
    records = instance.get_run_records(filters=dg.RunsFilter(run_ids=[run_id]), limit=1)
    if not records:
        raise RunHistoryError(f"no run {run_id} in the Dagster instance at {_where(instance)}")
    row = _run_row(instance, records[0])
    row["steps"] = [
        {
            "step": stat.step_key,
            "status": stat.status.value.lower() if stat.status else "not finished",
            "seconds": _seconds(stat.start_time, stat.end_time),
            "attempts": stat.attempts,
        }
        for stat in instance.get_run_step_stats(run_id)
    ]
    row["metric_steps"] = {
        metric_id: [
            {
                "step": s.step_of(entry["endpoint"]),
                "status": entry["status"],
                "duration_ms": entry["duration_ms"],
                "error": entry["error"],
                "detail": entry["detail"],
            }
            for entry in store.refresh_log.steps(metric_id, run_id)
        ]
        for metric_id in row["metrics"]
    }
    return row


def resume(
    instance: dg.DagsterInstance, store: Store, run_id: str, *, verbose: bool = False
) -> dg.JobExecutionResult:
    """Re-execute a run from its failure in this process, tagged with its parent.

    A run Dagster still shows in progress is first asked whether it lives: a dead one is
    failed and its metrics released (as `recover` does); a live one is refused.
    """
    run = instance.get_run_by_id(run_id)
    if run is None:
        raise RunHistoryError(f"no run {run_id} in the Dagster instance at {_where(instance)}")
    if run.status in ACTIVE_STATUSES:
        if run_is_active(instance, store)(run_id):
            raise RunHistoryError(f"run {run_id} is still {run.status.value.lower()}")
        recover(instance, store)
        run = instance.get_run_by_id(run_id)
        assert run is not None  # it was there a moment ago; runs are never deleted here
    if run.status == dg.DagsterRunStatus.SUCCESS:
        raise RunHistoryError(f"run {run_id} succeeded: there is nothing to resume")
    factory = RESUMABLE.get(run.job_name)
    if factory is None:
        raise RunHistoryError(
            f"run {run_id} is of job {run.job_name}, which orbit does not resume; "
            f"it resumes {', '.join(RESUMABLE)}"
        )
    tags = {
        **{key: value for key, value in run.tags.items() if key != INTERRUPTED_TAG},
        PARENT_RUN_TAG: run_id,
        ROOT_RUN_TAG: run.root_run_id or run_id,
    }
    return dg.execute_job(
        dg.reconstructable(factory),
        instance,
        run_config={**run.run_config, **console_logs(verbose)},
        tags=tags,
        reexecution_options=dg.ReexecutionOptions.from_failure(run_id, instance),
    )


def _run_row(instance: dg.DagsterInstance, record: dg.RunRecord) -> dict[str, Any]:
    run = record.dagster_run
    failed = run.status == dg.DagsterRunStatus.FAILURE
    return {
        "run_id": run.run_id,
        "job": run.job_name,
        "status": run.status.value.lower(),
        "metrics": run_metric_ids(run.tags, run.run_config),
        "started": _iso(record.start_time),
        "seconds": _seconds(record.start_time, record.end_time),
        "parent_run_id": run.parent_run_id,
        "error": failure_reason(instance, run.run_id) if failed else None,
    }


def _where(instance: dg.DagsterInstance) -> str:
    return "(temporary)" if instance.is_ephemeral else str(instance.root_directory)


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat(timespec="seconds")


def _seconds(start: float | None, end: float | None) -> float | None:
    return None if start is None or end is None else round(end - start, 3)
