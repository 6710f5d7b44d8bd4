"""The step log's vocabulary: the `pipeline:<step>` endpoint of a row, and a row's statuses.

A stored contract: the product front end reads `pipeline:<step>` rows of the step log. Which
steps exist, in what order, is the refresh's step table (`refresh/table.py`); the store
writes whatever plan its caller hands it, in that plan's order.
"""

ENDPOINT_PREFIX = "pipeline:"

# Step-log statuses. `pending` is a planned step not started yet; `skipped` a step this run
# does not execute (its mode has no such step, or it reuses what exists); `cancelled` a
# planned step that never ran because an earlier one failed or the run died; `interrupted` a
# step that was running when its run died (killed, its host lost).
PENDING, RUNNING, SUCCESS, FAILED, SKIPPED, CANCELLED, INTERRUPTED = (
    "pending",
    "running",
    "success",
    "failed",
    "skipped",
    "cancelled",
    "interrupted",
)
FINISHED_STATUSES = frozenset({SUCCESS, FAILED, SKIPPED, CANCELLED, INTERRUPTED})


def endpoint(step: str) -> str:
    return f"{ENDPOINT_PREFIX}{step}"


def step_of(endpoint_value: str) -> str:
    return endpoint_value.removeprefix(ENDPOINT_PREFIX)
