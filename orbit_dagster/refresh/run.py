"""Running the named steps: one step under the recorder, or one metric's whole refresh.

The Dagster graph runs the steps one op each (`defs/metrics/ops.py`) through `run_step`; the
batch job and the benchmarks' bare baseline run `run_all_steps` for each metric of a batch.
"""

from collections.abc import Callable

from orbit_dagster.liveness import working_on
from orbit_dagster.refresh.modes import Mode
from orbit_dagster.refresh.plan import plan
from orbit_dagster.refresh.recorder import StepRecorder
from orbit_dagster.refresh.state import RefreshState
from orbit_dagster.refresh.table import STEPS, Step
from orbit_dagster.refresh.transformer_tools import TransformerTools
from orbit_dagster.store import Store

# No model (built-in generator) and no pool (a fresh sandbox process per execution).
DEFAULT_TOOLS = TransformerTools()
# What a heartbeat names as the work of a process running a metric's steps in one go.
ALL_STEPS = "all-steps"


def run_step(
    recorder: StepRecorder, step: Step, state: RefreshState, tools: TransformerTools = DEFAULT_TOOLS
) -> RefreshState:
    """Run one named step under the recorder (step log, refresh_status, lock, last_error).

    A step its run's mode does not have is skipped, with the table's reason: the claim wrote
    it so in the plan, so nothing is written again (two commits a skipped step saved).
    """
    reason = step.skip_reason(state.mode)
    if reason is not None and recorder.plan.get(step.name) == reason:
        return state
    with recorder.step(step.name) as outcome:
        if reason is not None:
            outcome.skip(reason)
            return state
        return step.function(recorder.store, recorder.run_id, state, outcome, tools)


def run_all_steps(
    store: Store,
    metric_id: str,
    run_id: str,
    job_name: str,
    mode: Mode,
    is_run_active: Callable[[str], bool],
    tools: TransformerTools = DEFAULT_TOOLS,
) -> RefreshState:
    """Every step of one metric's refresh in this process; raises on the first failed step."""
    recorder = StepRecorder(
        store=store,
        metric_id=metric_id,
        run_id=run_id,
        job_name=job_name,
        mode=mode,
        plan=plan(mode),
        is_run_active=is_run_active,
        in_one_go=True,
    )
    state = RefreshState(metric_id=metric_id, mode=mode)
    # One beat around the whole refresh, rewritten every 10 s while it runs.
    with working_on(store, run_id, ALL_STEPS, metric_id):
        for step in STEPS:
            state = run_step(recorder, step, state, tools)
        recorder.flush()
    return state
