"""The named steps in order, and one refresh of one metric as a plain loop over them.

The Dagster graph runs the same steps one op each (`defs/metrics/ops.py`); the batch job and
the benchmarks' bare baseline run `refresh_metric` for each metric of a batch.
"""

from collections.abc import Callable

from orbit_dagster.refresh import steps
from orbit_dagster.refresh.plan import Mode, plan
from orbit_dagster.refresh.recorder import StepOutcome, StepRecorder
from orbit_dagster.refresh.services import Services
from orbit_dagster.refresh.state import RefreshState
from orbit_dagster.store import Store
from orbit_dagster.store.steps import STEPS

StepFunction = Callable[[Store, str, RefreshState, StepOutcome, Services], RefreshState]

# No model (built-in generator) and no pool (a fresh sandbox process per execution).
NO_SERVICES = Services()

STEP_FUNCTIONS: dict[str, StepFunction] = {
    "fetching-api-data": steps.fetch_api_data,
    "deleting-old-data": steps.delete_old_data,
    "deleting-old-transformer": steps.delete_old_transformer,
    "generating-ingestion-transformer": steps.generate_ingestion_transformer,
    "executing-ingestion-transformer": steps.execute_ingestion_transformer,
    "saving-timeseries-data": steps.save_timeseries_data,
    "generating-chart-transformer": steps.generate_chart_transformer,
    "executing-chart-transformer": steps.execute_chart_transformer,
    "saving-chart-config": steps.save_chart_config,
}
assert tuple(STEP_FUNCTIONS) == STEPS, "every named step has exactly one function, in order"


def run_step(
    recorder: StepRecorder, step: str, state: RefreshState, services: Services = NO_SERVICES
) -> RefreshState:
    """Run one named step under the recorder (step log, refresh_status, lock, last_error)."""
    with recorder.step(step) as outcome:
        return STEP_FUNCTIONS[step](recorder.store, recorder.run_id, state, outcome, services)


def refresh_metric(
    store: Store,
    metric_id: str,
    run_id: str,
    mode: Mode,
    is_run_active: Callable[[str], bool],
    services: Services = NO_SERVICES,
) -> RefreshState:
    """Every step of one metric's refresh in this process; raises on the first failed step."""
    recorder = StepRecorder(
        store=store,
        metric_id=metric_id,
        run_id=run_id,
        mode=mode,
        plan=plan(mode),
        is_run_active=is_run_active,
    )
    state = RefreshState(metric_id=metric_id, mode=mode)
    for step in STEPS:
        state = run_step(recorder, step, state, services)
    return state
