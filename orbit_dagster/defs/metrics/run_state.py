"""Whether a Dagster run is still alive, as the store's refresh lock and progress ask it."""

from collections.abc import Callable

import dagster as dg

# Everything before a terminal state: such a run may still write.
ACTIVE_STATUSES = frozenset(
    {
        dg.DagsterRunStatus.QUEUED,
        dg.DagsterRunStatus.NOT_STARTED,
        dg.DagsterRunStatus.STARTING,
        dg.DagsterRunStatus.STARTED,
        dg.DagsterRunStatus.CANCELING,
    }
)


def run_is_active(instance: dg.DagsterInstance) -> Callable[[str], bool]:
    def is_active(run_id: str) -> bool:
        run = instance.get_run_by_id(run_id)
        return run is not None and run.status in ACTIVE_STATUSES

    return is_active
