"""Why a run failed, in one line: the reason its first failed step gave, not Dagster's
run-level message (which names the job and the failed step keys, never the reason)."""

import dagster as dg
from dagster_shared.error import SerializableErrorInfo


def failure_reason(instance: dg.DagsterInstance, run_id: str) -> str:
    """The first failed step's reason; else the run failure's message (a run failed from
    outside, as a dead run is); else a plain "the run failed"."""
    steps = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    for entry in steps:
        event = entry.dagster_event
        if event is None:
            continue
        failure = event.step_failure_data
        if failure.user_failure_data is not None and failure.user_failure_data.description:
            # A `dg.Failure` raised by our op: its description is the whole message.
            return failure.user_failure_data.description
        return root_cause(failure.error)
    runs = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    return (runs[-1].message if runs else None) or "the run failed"


def root_cause(error: SerializableErrorInfo | None) -> str:
    """The message of the exception our step raised, under Dagster's wrapping errors."""
    if error is None:
        return "the step failed"
    while error.cause is not None:
        error = error.cause
    return error.message.strip()
