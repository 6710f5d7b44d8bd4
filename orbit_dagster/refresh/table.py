"""The one table of a metric refresh's nine named steps, in run order; every layer reads it.

A step's name is a stored contract (the product front end polls `metrics.refresh_status` for
it and reads `pipeline:<step>` rows of the step log); its display name is what the progress
answer shows; its description is its op's in the Dagster UI; its plain function does the work
and names the op (a verb); its modes are the refresh modes that run it. The rule "old data
and transformers are replaced only by a hard refresh" is the two `deleting-*` rows below, and
nowhere else: the plan and the runner both ask `Step.skip_reason`.
"""

from collections.abc import Callable
from dataclasses import dataclass

from orbit_dagster.refresh import steps
from orbit_dagster.refresh.modes import MODES, Mode
from orbit_dagster.refresh.recorder import StepOutcome
from orbit_dagster.refresh.state import RefreshState
from orbit_dagster.refresh.transformer_tools import TransformerTools
from orbit_dagster.store import Store

StepFunction = Callable[[Store, str, RefreshState, StepOutcome, TransformerTools], RefreshState]


@dataclass(frozen=True)
class Step:
    name: str
    display_name: str
    description: str
    function: StepFunction
    modes: frozenset[str] = frozenset(MODES)
    # What a mode without this step keeps, for the reason it is skipped.
    keeps: str = ""

    @property
    def op_name(self) -> str:
        return self.function.__name__

    def skip_reason(self, mode: Mode) -> str | None:
        """None when `mode` runs this step, else why it is skipped."""
        return None if mode in self.modes else f"a {mode} run keeps {self.keeps}"


HARD_REFRESH_ONLY = frozenset({"hard-refresh"})

STEPS: tuple[Step, ...] = (
    Step(
        "fetching-api-data",
        "Fetching API data",
        "Fetch the metric's payload from its source.",
        steps.fetch_api_data,
    ),
    Step(
        "deleting-old-data",
        "Deleting old data",
        "Hard refresh: stage the replacement of the old points.",
        steps.delete_old_data,
        modes=HARD_REFRESH_ONLY,
        keeps="existing data",
    ),
    Step(
        "deleting-old-transformer",
        "Deleting old transformer",
        "Hard refresh: stage the replacement of both transformers.",
        steps.delete_old_transformer,
        modes=HARD_REFRESH_ONLY,
        keeps="existing transformers",
    ),
    Step(
        "generating-ingestion-transformer",
        "Generating ingestion transformer",
        "Reuse (soft refresh) or generate the transformer.",
        steps.generate_ingestion_transformer,
    ),
    Step(
        "executing-ingestion-transformer",
        "Executing ingestion transformer",
        "Run it in the sandbox; validate the points.",
        steps.execute_ingestion_transformer,
    ),
    Step(
        "saving-timeseries-data",
        "Saving time series data",
        "Upsert the points (hard refresh: replace) in one transaction.",
        steps.save_timeseries_data,
    ),
    Step(
        "generating-chart-transformer",
        "Generating chart transformer",
        "Reuse (soft refresh) or generate the chart transformer.",
        steps.generate_chart_transformer,
    ),
    Step(
        "executing-chart-transformer",
        "Executing chart transformer",
        "Build the Vega-Lite spec in the sandbox.",
        steps.execute_chart_transformer,
    ),
    Step(
        "saving-chart-config",
        "Saving chart config",
        "Save the chart config (and a new chart transformer).",
        steps.save_chart_config,
    ),
)

STEP_NAMES: tuple[str, ...] = tuple(step.name for step in STEPS)
BY_NAME: dict[str, Step] = {step.name: step for step in STEPS}
BY_OP_NAME: dict[str, Step] = {step.op_name: step for step in STEPS}
