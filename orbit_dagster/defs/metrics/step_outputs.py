"""The refresh chain's IO manager: each op's `RefreshState` kept in the Orbit store, not on disk.

Dagster's default IO manager pickles every output under `DAGSTER_HOME/storage/` and never
deletes it: 12 MB per 50,000-point refresh, payload included. The store instead keeps each
state as compressed JSON (`store/step_outputs.py`, `refresh/state.py`) for as long as a
re-execution may need it, which the three ways steps run all require: in-process (the UI's
"re-execute from failure", run retries), the multiprocess executor (a process per step) and
dagster-celery workers on other hosts, which share the store but not a disk.
"""

import dagster as dg
from pydantic import Field

from orbit_dagster.refresh.state import RefreshState, decode, encode
from orbit_dagster.store import Store
from orbit_dagster.store.step_outputs import RETENTION

REFRESH_IO_MANAGER = "refresh_io_manager"


class StepOutputsIOManager(dg.ConfigurableIOManager):
    """Passes the refresh state from op to op through the Orbit store's `step_outputs`."""

    database_url: str = Field(description="SQLAlchemy URL of the Orbit store (as orbit_store).")

    def handle_output(self, context: dg.OutputContext, obj: RefreshState) -> None:
        Store(self.database_url).step_outputs.save(
            context.run_id, context.step_key, context.name, encode(obj)
        )

    def load_input(self, context: dg.InputContext) -> RefreshState:
        upstream = context.upstream_output
        assert upstream is not None  # every input of the chain is an upstream op's output
        data = Store(self.database_url).step_outputs.load(
            upstream.run_id, upstream.step_key, upstream.name
        )
        if data is None:
            # Re-executing again cannot bring it back: no retry, and say what to do instead.
            raise dg.Failure(
                description=f"the output of step {upstream.step_key} of run {upstream.run_id} "
                f"is no longer kept (a refresh's step outputs are deleted when it completes, "
                f"and {RETENTION.days} days after it fails): start a new refresh of the metric",
                allow_retries=False,
            )
        return decode(data)


def release_step_outputs(context: dg.OpExecutionContext, store: Store) -> None:
    """The run's refresh completed: delete its step outputs and those of the runs it
    re-executed (their failed steps are done now)."""
    run_ids = [context.run_id]
    run = context.run
    while run.parent_run_id is not None:
        parent = context.instance.get_run_by_id(run.parent_run_id)
        if parent is None:
            break  # deleted from Dagster's storage; the sweep removes its outputs
        run_ids.append(parent.run_id)
        run = parent
    store.step_outputs.delete(run_ids)
