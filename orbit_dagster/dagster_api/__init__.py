"""The code location's small Dagster-facing surface, shared by the wiring and the command.

The `orbit` command imports this module and `definitions.py`, never `defs/` (the loader
imports every module there, and its modules are objects for Dagster to load, not an API).
The wiring under `defs/` uses the same helpers: the metric partitions, the pipelines mirror;
whether a run still lives is in `interrupted.py`, run history and re-execution in
`history.py`. Runs started here go through the persistent instance
(`DAGSTER_HOME`, else the embedded one under the data folder), so they show in the UI.
"""

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import dagster as dg

from orbit_dagster import settings
from orbit_dagster.dagster_api.failures import failure_reason
from orbit_dagster.dagster_api.interrupted import INTERRUPTED_TAG
from orbit_dagster.documents.jobs import DOCUMENT_JOB, SHA256_TAG, document_run_config
from orbit_dagster.refresh.jobs import (
    METRIC_PARTITIONS,
    REFRESH_JOB,
    refresh_run_config,
)
from orbit_dagster.refresh.modes import Mode
from orbit_dagster.run_stats import RunSummary, pipeline_stats
from orbit_dagster.store import Store


def console_logs(verbose: bool = False) -> dict[str, Any]:
    """Run config of Dagster's console logger for a run in this process: quiet, the terminal
    gets the command's own line (every event stays in the run's log, `orbit runs show`, the
    UI); `verbose` prints the run's records as they happen."""
    return {"loggers": {"console": {"config": {"log_level": "INFO" if verbose else "CRITICAL"}}}}


# Dagster's hidden jobs for ad-hoc asset runs are not pipelines a user defined.
HIDDEN_JOB_PREFIX = "__"


@cache
def instance() -> dg.DagsterInstance:
    """The command's persistent instance: `DAGSTER_HOME`, else the embedded one."""
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home())
    return dg.DagsterInstance.get()


def metric_partition_changes(
    instance: dg.DagsterInstance, metric_ids: Sequence[str]
) -> tuple[list[str], list[str]]:
    """(the metrics without a partition, in order; the partitions of no metric, sorted)."""
    known = set(instance.get_dynamic_partitions(METRIC_PARTITIONS))
    return [m for m in metric_ids if m not in known], sorted(known - set(metric_ids))


def ensure_metric_partitions(instance: dg.DagsterInstance, metric_ids: Sequence[str]) -> None:
    """Give each metric its partition, so the UI lists it and its runs count in its status."""
    missing, _ = metric_partition_changes(instance, metric_ids)
    if missing:
        instance.add_dynamic_partitions(METRIC_PARTITIONS, missing)


def missing_partition_error(instance: dg.DagsterInstance, metric_id: str) -> str | None:
    """Why a refresh of `metric_id` cannot run on this instance, before it writes anything:
    the metric has no partition here (another `DAGSTER_HOME` than the one that knows it)."""
    if instance.has_dynamic_partition(METRIC_PARTITIONS, metric_id):
        return None
    where = (
        "a temporary instance (DAGSTER_HOME is unset)"
        if instance.is_ephemeral
        else f"the Dagster instance at {instance.root_directory}"
    )
    return (
        f"metric '{metric_id}' has no partition in {where}, so nothing was written: run on the "
        "instance Orbit uses (`orbit dagster-home` prints it), or give this one the metrics' "
        "partitions with `orbit sync` under the same DAGSTER_HOME"
    )


def remove_metric_partition(instance: dg.DagsterInstance, metric_id: str) -> None:
    if instance.has_dynamic_partition(METRIC_PARTITIONS, metric_id):
        instance.delete_dynamic_partition(METRIC_PARTITIONS, metric_id)


@dataclass(frozen=True)
class RunOutcome:
    """How a run of a job in this process ended, with its tags (e.g. a document's hash)."""

    run_id: str
    success: bool
    error: str | None
    tags: Mapping[str, str] = field(default_factory=dict)


def run_refresh(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    metric_id: str,
    mode: Mode,
    *,
    verbose: bool = False,
) -> RunOutcome:
    """Run `refresh_metric_job` for one metric partition in this process."""
    ensure_metric_partitions(instance, [metric_id])
    return _execute(
        definitions,
        instance,
        REFRESH_JOB,
        refresh_run_config(mode),
        partition_key=metric_id,
        verbose=verbose,
    )


def run_document(
    definitions: dg.Definitions, instance: dg.DagsterInstance, path: str, *, verbose: bool = False
) -> RunOutcome:
    """Run `process_document_job` for one local file in this process."""
    return _execute(definitions, instance, DOCUMENT_JOB, document_run_config(path), verbose=verbose)


def document_sha256(outcome: RunOutcome) -> str | None:
    """The hash the first step tagged the run with, once it had read the file."""
    return outcome.tags.get(SHA256_TAG)


def _execute(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    job_name: str,
    run_config: dict[str, Any],
    partition_key: str | None = None,
    verbose: bool = False,
) -> RunOutcome:
    result = definitions.resolve_job_def(job_name).execute_in_process(
        instance=instance,
        partition_key=partition_key,
        run_config={**run_config, **console_logs(verbose)},
        raise_on_error=False,
    )
    run = instance.get_run_by_id(result.run_id)
    tags = dict(run.tags) if run else {}
    if result.success:
        return RunOutcome(run_id=result.run_id, success=True, error=None, tags=tags)
    error = failure_reason(instance, result.run_id)
    return RunOutcome(run_id=result.run_id, success=False, error=error, tags=tags)


def pipeline_entries(
    repository: dg.RepositoryDefinition, instance: dg.DagsterInstance
) -> list[dict[str, Any]]:
    """Jobs, assets, schedules and sensors with descriptions and whether they run, as rows
    for the Orbit store's `pipelines` mirror."""
    # Toggled in the UI: RUNNING / STOPPED; never toggled: absent or DECLARED_IN_CODE, in
    # which case the code's default status holds. (Compared by value: InstigatorStatus is
    # not part of Dagster's public API.)
    states = {state.name: state.status.value for state in instance.all_instigator_state()}

    def running(name: str, default: Any) -> bool:
        status = states.get(name, "DECLARED_IN_CODE")
        if status == "DECLARED_IN_CODE":
            return default.value == "RUNNING"
        return status == "RUNNING"

    def entry(name: str, kind: str, description: str | None, **rest: Any) -> dict[str, Any]:
        return {
            "name": name,
            "kind": kind,
            "description": description or "",
            "schedule": None,
            "is_active": True,
            **rest,
        }

    return [
        *(
            entry(job.name, "job", job.description)
            for job in repository.get_all_jobs()
            if not job.name.startswith(HIDDEN_JOB_PREFIX)
        ),
        *(
            entry(key.to_user_string(), "asset", repository.asset_graph.get(key).description)
            for key in sorted(repository.asset_graph.get_all_asset_keys())
        ),
        *(
            entry(
                schedule.name,
                "schedule",
                schedule.description,
                schedule=str(schedule.cron_schedule),
                is_active=running(schedule.name, schedule.default_status),
            )
            for schedule in repository.schedule_defs
        ),
        *(
            entry(
                sensor.name,
                "sensor",
                sensor.description,
                is_active=running(sensor.name, sensor.default_status),
            )
            for sensor in repository.sensor_defs
        ),
    ]


def health_figures(
    instance: dg.DagsterInstance, store: Store, window: dt.timedelta
) -> dict[str, Any]:
    """The pipeline health figures of the last `window` (`run_stats.pipeline_stats` over this
    instance's runs and the store's metrics): what `pipeline_health` records and `orbit stats`
    prints."""
    now = dt.datetime.now(dt.UTC)
    return pipeline_stats(
        _run_summaries(instance, now - window),
        store.list_metrics(),
        since=now - window,
        now=now,
        default_cron=settings.refresh_cron(),
    )


def _run_summaries(instance: dg.DagsterInstance, since: dt.datetime) -> list[RunSummary]:
    """The runs created since `since`, as the health figures read them; a failed run carries
    its reason (read only for failed runs: two queries each)."""
    records = instance.get_run_records(filters=dg.RunsFilter(created_after=since))
    summaries = []
    for record in records:
        run = record.dagster_run
        error = None
        if run.status == dg.DagsterRunStatus.FAILURE:
            error = failure_reason(instance, run.run_id)
        summaries.append(
            RunSummary(
                run_id=run.run_id,
                job_name=run.job_name,
                status=run.status.value,
                start=_utc(record.start_time),
                end=_utc(record.end_time),
                error=error,
                interrupted=INTERRUPTED_TAG in run.tags,
            )
        )
    return summaries


def _utc(timestamp: float | None) -> dt.datetime | None:
    return None if timestamp is None else dt.datetime.fromtimestamp(timestamp, dt.UTC)
