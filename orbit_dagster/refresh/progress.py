"""The progress answer the product front end reads, shaped from the store's progress record.

The field names (`isProcessing`, `currentStep`, `completedSteps` with `step`, `displayName`,
`status`, `durationMs`, `error`) are a contract with that front end: keep them word for word.
"""

from typing import Any

from orbit_dagster.refresh.table import BY_NAME
from orbit_dagster.store.refresh_log import RefreshProgress


def progress_answer(progress: RefreshProgress) -> dict[str, Any]:
    """`{runId, isProcessing, currentStep, completedSteps, error}`; no runId before any run."""
    if progress.run_id is None:
        return {"isProcessing": False, "currentStep": None, "completedSteps": [], "error": None}
    return {
        "runId": progress.run_id,
        "isProcessing": progress.processing,
        "currentStep": progress.current_step,
        "completedSteps": [
            {
                "step": row.step,
                "displayName": BY_NAME[row.step].display_name,
                "status": row.status,
                "durationMs": row.duration_ms,
                **({"error": row.error} if row.error else {}),
            }
            for row in progress.finished_steps
        ],
        "error": progress.error,
    }
