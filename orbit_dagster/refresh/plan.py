"""What a refresh mode runs: every named step is planned to run or skipped with a reason."""

from collections.abc import Collection
from typing import Literal, get_args

from orbit_dagster.store.steps import STEPS

Mode = Literal["create", "soft-refresh", "hard-refresh"]
MODES: tuple[str, ...] = get_args(Mode)

DELETE_STEPS = ("deleting-old-data", "deleting-old-transformer")


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
        if executed_steps is not None and step not in executed_steps:
            reasons[step] = f"done by run {parent_run_id}" if parent_run_id else "not selected"
        elif step in DELETE_STEPS and mode != "hard-refresh":
            reasons[step] = f"a {mode} run keeps existing data and transformers"
        else:
            reasons[step] = None
    return reasons
