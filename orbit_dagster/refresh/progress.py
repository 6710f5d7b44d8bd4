"""The progress answer the product front end reads, shaped from the store's progress record.

A contract with that front end, kept word for word: `{isProcessing, currentStep,
completedSteps, error}` (plus `runId` once the metric has run). While a run is active,
`completedSteps` lists the steps of that run's mode, in order, as `pipeline:<step>` with
`displayName`, `status` (`pending`, `running`, `completed`, `failed` or `skipped`) and
`durationMs`; when no run is active it is `[]`, and `error` holds the last run's error.
`currentStep` is the bare step name, as the front end polls it in `metric.refresh_status`.
"""

from typing import Any

from orbit_dagster.refresh.table import BY_NAME
from orbit_dagster.store import step_log as s
from orbit_dagster.store.refresh_log import RefreshProgress

# The store's step statuses in the contract's words. A cancelled step never ran; an
# interrupted one died with its run (both show only once the run is over, when no step is
# listed, unless another run of the metric is under way).
CONTRACT_STATUS = {
    s.PENDING: "pending",
    s.RUNNING: "running",
    s.SUCCESS: "completed",
    s.FAILED: "failed",
    s.SKIPPED: "skipped",
    s.CANCELLED: "skipped",
    s.INTERRUPTED: "failed",
}


def progress_answer(progress: RefreshProgress) -> dict[str, Any]:
    """The contract's object for the metric's current or last run (no runId before any run)."""
    answer: dict[str, Any] = {
        "isProcessing": progress.processing,
        "currentStep": progress.current_step,
        "completedSteps": [],
        "error": progress.error,
    }
    if progress.run_id is None:
        return answer
    answer["runId"] = progress.run_id
    if progress.processing:
        answer["completedSteps"] = [
            {
                "step": s.endpoint(row.step),
                "displayName": BY_NAME[row.step].display_name,
                "status": CONTRACT_STATUS[row.status],
                "durationMs": row.duration_ms,
                **({"error": row.error} if row.error else {}),
            }
            for row in progress.steps
            if progress.mode is None or progress.mode in BY_NAME[row.step].modes
        ]
    return answer
