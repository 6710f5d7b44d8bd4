"""What a refresh run executes: every named step, in order, planned to run or skipped with why."""

from collections.abc import Collection

from orbit_dagster.refresh.modes import MODES, Mode
from orbit_dagster.refresh.table import STEPS


def plan(
    mode: Mode,
    executed_steps: Collection[str] | None = None,
    parent_run_id: str | None = None,
) -> dict[str, str | None]:
    """Each step → None when this run executes it, else why it is skipped.

    `executed_steps` is the subset of steps this run executes (None: all), as in a run
    re-executed from a failed step, where the earlier steps' results come from the parent.
    """
    if mode not in MODES:
        raise ValueError(f"unknown refresh mode {mode!r}; expected one of {', '.join(MODES)}")
    reasons: dict[str, str | None] = {}
    for step in STEPS:
        if executed_steps is not None and step.name not in executed_steps:
            reasons[step.name] = f"done by run {parent_run_id}" if parent_run_id else "not selected"
        else:
            reasons[step.name] = step.skip_reason(mode)
    return reasons
