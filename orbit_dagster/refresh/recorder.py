"""`StepRecorder`: runs one named step of a metric refresh and records it in the step log.

While a step runs, this process beats for the run (`orbit_dagster.liveness`), so a run
killed mid-step is known dead at once on this host and within a minute elsewhere.
Entering a recorder's first step claims the metric for the run (idempotent; refused while
another live run holds it); entering any step sets `refresh_status` to the step and marks its
row running. Leaving it records success or skipped with the duration; an exception records
the failure, cancels the steps that will not run, clears `refresh_status`, sets `last_error`,
and propagates.
"""

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field

from orbit_dagster.liveness import working_on
from orbit_dagster.refresh.errors import OWN_ERRORS
from orbit_dagster.refresh.modes import Mode
from orbit_dagster.store import Store
from orbit_dagster.store import step_log as s
from orbit_dagster.store.records import utcnow
from orbit_dagster.store.refresh_log import Claim, Finished


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
    # False: one op per step, each beating for itself and writing its end as it ends. True:
    # the caller runs every step in one go (`run_all_steps`), beats once around them all,
    # and calls `flush` after the last: a step's end is written with the next one's start,
    # three writes fewer per step.
    in_one_go: bool = False
    _finished: Finished | None = field(default=None, init=False)
    # The claim goes with this recorder's first step only (each op has its own recorder, so
    # it is every step there). Afterwards a lost lock is still caught: the step writes and the
    # save are guarded by `refresh_run_id = run_id`, and `save_points` refuses without it.
    _claimed: bool = field(default=False, init=False)

    @contextmanager
    def step(self, name: str) -> Iterator[StepOutcome]:
        beating = working_on(self.store, self.run_id, name, self.metric_id)
        with nullcontext() if self.in_one_go else beating:
            yield from self._recorded(name)

    def flush(self) -> None:
        """Write the end of the last step run in one go (it completes the refresh)."""
        if self._finished is not None:
            finished, self._finished = self._finished, None
            self.store.refresh_log.finish_step(
                self.metric_id,
                self.run_id,
                finished.step,
                status=finished.status,
                duration_ms=finished.duration_ms,
                detail=finished.detail,
            )

    def _recorded(self, name: str) -> Iterator[StepOutcome]:
        log = self.store.refresh_log
        claim = None
        if not self._claimed:
            claim = Claim(self.job_name, self.mode, self.plan, self.is_run_active)
        finished, self._finished = self._finished, None
        log.start_step(self.metric_id, self.run_id, name, claim, finished)
        self._claimed = True
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
        status = s.SKIPPED if outcome.skipped else s.SUCCESS
        if self.in_one_go:
            self._finished = Finished(name, status, utcnow(), _elapsed_ms(started), outcome.detail)
            return
        log.finish_step(
            self.metric_id,
            self.run_id,
            name,
            status=status,
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
