"""The named steps of a metric refresh: their order, display names and step-log statuses.

They live in the store because they are a stored contract: the product front end polls
`metrics.refresh_status` for these names and reads `pipeline:<step>` rows of the step log.
"""

STEPS: tuple[str, ...] = (
    "fetching-api-data",
    "deleting-old-data",
    "deleting-old-transformer",
    "generating-ingestion-transformer",
    "executing-ingestion-transformer",
    "saving-timeseries-data",
    "generating-chart-transformer",
    "executing-chart-transformer",
    "saving-chart-config",
)

DISPLAY_NAMES: dict[str, str] = {
    "fetching-api-data": "Fetching API data",
    "deleting-old-data": "Deleting old data",
    "deleting-old-transformer": "Deleting old transformer",
    "generating-ingestion-transformer": "Generating ingestion transformer",
    "executing-ingestion-transformer": "Executing ingestion transformer",
    "saving-timeseries-data": "Saving time series data",
    "generating-chart-transformer": "Generating chart transformer",
    "executing-chart-transformer": "Executing chart transformer",
    "saving-chart-config": "Saving chart config",
}

ENDPOINT_PREFIX = "pipeline:"

# Step-log statuses. `pending` is a planned step not started yet; `skipped` a step this run
# does not execute (its mode has no such step, or it reuses what exists); `cancelled` a
# planned step that never ran because an earlier one failed.
PENDING, RUNNING, SUCCESS, FAILED, SKIPPED, CANCELLED = (
    "pending",
    "running",
    "success",
    "failed",
    "skipped",
    "cancelled",
)
FINISHED_STATUSES = frozenset({SUCCESS, FAILED, SKIPPED, CANCELLED})


def endpoint(step: str) -> str:
    return f"{ENDPOINT_PREFIX}{step}"


def step_of(endpoint_value: str) -> str:
    return endpoint_value.removeprefix(ENDPOINT_PREFIX)
