"""How the `orbit` command reaches Dagster: the instance, the definitions, one refresh run.

Runs go through the persistent instance (`DAGSTER_HOME`, else the embedded one under the
data folder), so a refresh started here shows in the Dagster UI like any other run.
"""

import os
from dataclasses import dataclass
from functools import cache

import dagster as dg
from dagster_shared.error import SerializableErrorInfo

from orbit_dagster import settings
from orbit_dagster.defs.metrics.partitions import metric_partitions
from orbit_dagster.defs.metrics.run_state import run_is_active
from orbit_dagster.refresh.plan import Mode


@cache
def instance() -> dg.DagsterInstance:
    if "DAGSTER_HOME" not in os.environ:
        os.environ["DAGSTER_HOME"] = str(settings.embedded_dagster_home())
    return dg.DagsterInstance.get()


@cache
def definitions() -> dg.Definitions:
    from orbit_dagster.definitions import defs

    return defs()


def is_run_active(run_id: str) -> bool:
    return run_is_active(instance())(run_id)


def add_partition(instance: dg.DagsterInstance, metric_id: str) -> None:
    """Register the metric's partition so the UI lists it and runs can target it."""
    if not instance.has_dynamic_partition(metric_partitions.name, metric_id):
        instance.add_dynamic_partitions(metric_partitions.name, [metric_id])


def remove_partition(metric_id: str) -> None:
    if instance().has_dynamic_partition(metric_partitions.name, metric_id):
        instance().delete_dynamic_partition(metric_partitions.name, metric_id)


@dataclass(frozen=True)
class RefreshOutcome:
    run_id: str
    success: bool
    error: str | None


def refresh(metric_id: str, mode: Mode) -> RefreshOutcome:
    """Run `refresh_metric` for one metric on the command's instance and definitions."""
    return run_refresh(definitions(), instance(), metric_id, mode)


def run_refresh(
    definitions: dg.Definitions, instance: dg.DagsterInstance, metric_id: str, mode: Mode
) -> RefreshOutcome:
    """Run `refresh_metric` for one metric partition in this process and report the outcome."""
    add_partition(instance, metric_id)
    result = definitions.resolve_job_def("refresh_metric").execute_in_process(
        instance=instance,
        partition_key=metric_id,
        run_config={
            "ops": {"metric_refresh": {"config": {"mode": mode}}},
            # The terminal shows the outcome; every event stays in the run's log in the UI.
            "loggers": {"console": {"config": {"log_level": "WARNING"}}},
        },
        raise_on_error=False,
    )
    error = None
    if not result.success:
        failures = [e for e in result.all_events if e.is_step_failure]
        error = root_cause(failures[0].step_failure_data.error) if failures else "the run failed"
    return RefreshOutcome(run_id=result.run_id, success=result.success, error=error)


def root_cause(error: SerializableErrorInfo | None) -> str:
    """The message of the exception our step raised, under Dagster's wrapping errors."""
    if error is None:
        return "the step failed"
    while error.cause is not None:
        error = error.cause
    return error.message.strip()
