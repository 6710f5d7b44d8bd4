"""`StepRecorder`: runs one named step of a metric refresh and records it in the step log.

While a step runs, this process beats for the run (`orbit_dagster.liveness`), so a run
killed mid-step is known dead at once on this host and within a minute elsewhere.
Entering a step claims the metric for the run (idempotent; refused while another live run
holds it), sets `refresh_status` to the step and marks its row running. Leaving it records
success or skipped with the duration; an exception records the failure, cancels the steps
that will not run, clears `refresh_status`, sets `last_error`, and propagates.
"""

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

from orbit_dagster.liveness import working_on
from orbit_dagster.refresh.errors import OWN_ERRORS
from orbit_dagster.refresh.modes import Mode
from orbit_dagster.store import Store
from orbit_dagster.store import step_log as s
from orbit_dagster.store.refresh_log import Claim


@dataclass
class StepOutcome:
    """What a step reports besides success: that it skipped its work, and why."""

    skipped: bool = False
    detail: str | None = None

    def skip(self, reason: str) -> None:
        self.skipped, self.detail = True, reason


@dataclass
class StepRecorder:
    """One metric's steps in one run; `job_name` is the pipeline the run is recorded under."""

    store: Store
    metric_id: str
    run_id: str
    job_name: str
    mode: Mode
    plan: Mapping[str, str | None]
    is_run_active: Callable[[str], bool]
    # Whether each step beats for itself (one op per step); the caller running every step
    # in one go beats once around them all (`run_all_steps`): two writes fewer per step.
    beats_per_step: bool = True

    @contextmanager
    def step(self, name: str) -> Iterator[StepOutcome]:
        beating = working_on(self.store, self.run_id, name, self.metric_id)
        with beating if self.beats_per_step else nullcontext():
            yield from self._recorded(name)

    def _recorded(self, name: str) -> Iterator[StepOutcome]:
        log = self.store.refresh_log
        claim = Claim(self.job_name, self.mode, self.plan, self.is_run_active)
        log.start_step(self.metric_id, self.run_id, name, claim)
        started = time.perf_counter()
        outcome = StepOutcome()
        try:
            yield outcome
        except Exception as error:
            log.fail_step(
                self.metric_id,
                self.run_id,
                name,
                error=describe(error),
                duration_ms=_elapsed_ms(started),
            )
            raise
        log.finish_step(
            self.metric_id,
            self.run_id,
            name,
            status=s.SKIPPED if outcome.skipped else s.SUCCESS,
            duration_ms=_elapsed_ms(started),
            detail=outcome.detail,
        )


def describe(error: BaseException) -> str:
    """Our own errors carry a complete message; anything else is named by its type too."""
    if isinstance(error, OWN_ERRORS):
        return str(error)
    return f"{type(error).__name__}: {error}"


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
