"""Runs that died without a word: found by their heartbeats, failed in Dagster, their
metrics released (`recover`, for the sweep sensor and `orbit recover`).

A run Dagster shows STARTED may have lost its process (`kill -9`, an OOM kill, a lost host):
`run_is_active` asks the run's heartbeats (`orbit_dagster.liveness`) before believing it.
"""

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import dagster as dg

from orbit_dagster.liveness import dead_reason
from orbit_dagster.refresh.jobs import run_metric_ids
from orbit_dagster.store import Store
from orbit_dagster.store import step_log as s
from orbit_dagster.store.heartbeats import Beat

# Set on a run Orbit failed because its processes were gone (the value is the reason).
INTERRUPTED_TAG = "orbit/interrupted"
# Dagster's tag on a re-execution, naming the run it re-executes.
PARENT_RUN_TAG = "dagster/parent_run_id"
# A run in one of these has started and not ended: its process should be beating.
IN_PROGRESS = [
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
# Everything before a terminal state: such a run may still write.
ACTIVE_STATUSES = frozenset(
    {dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, *IN_PROGRESS}
)


def run_is_active(instance: dg.DagsterInstance, store: Store) -> Callable[[str], bool]:
    """Whether a run still lives, as the store's refresh lock and progress ask it.

    Dagster's status first; a run it shows in progress is also asked of its heartbeats
    (`liveness.dead_reason`). One found dead is failed in Dagster on the spot, with the
    reason, so the UI, the sensors and every later question agree that it is over.
    """

    def is_active(run_id: str) -> bool:
        run = instance.get_run_by_id(run_id)
        if run is None or run.status not in ACTIVE_STATUSES:
            return False
        reason = dead_reason(store.heartbeats.of_run(run_id))
        if reason is None:
            return True
        fail_dead_run(instance, run, reason)
        return False

    return is_active


def fail_dead_run(instance: dg.DagsterInstance, run: dg.DagsterRun, reason: str) -> None:
    """Mark a run whose processes are gone as failed, as the UI's terminate marks a run it
    cannot reach, and tag it as interrupted (what `orbit recover --auto-resume` resumes);
    the run failure sensor then records it like any other failure."""
    instance.add_run_tags(run.run_id, {INTERRUPTED_TAG: reason})
    instance.report_run_failed(run, message=f"Orbit found this run dead: {reason}")


@dataclass(frozen=True)
class InterruptedRun:
    """A run that died without finishing: still shown in progress (`started`, ...) or already
    failed by Orbit (`failure`) and not yet re-executed."""

    run_id: str
    job_name: str
    status: str
    metric_ids: list[str]
    last_step: str | None
    reason: str


def dead_runs(instance: dg.DagsterInstance, store: Store) -> list[InterruptedRun]:
    """Runs left STARTING, STARTED or CANCELING whose heartbeats show them dead (read only)."""
    records = instance.get_run_records(filters=dg.RunsFilter(statuses=IN_PROGRESS))
    found = []
    for record in records:
        run = record.dagster_run
        beats = store.heartbeats.of_run(run.run_id)
        reason = dead_reason(beats)
        if reason is not None:
            found.append(_interrupted(store, run, reason, beats))
    return found


def interrupted_runs(
    instance: dg.DagsterInstance, store: Store, since: dt.datetime
) -> list[InterruptedRun]:
    """The dead runs, and the runs created since `since` that Orbit failed as dead and no run
    has re-executed yet: what `orbit check-interrupted` lists and `recover --auto-resume`
    resumes (read only)."""
    failed = instance.get_run_records(
        filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE], created_after=since)
    )
    not_resumed = [
        _interrupted(store, record.dagster_run, record.dagster_run.tags[INTERRUPTED_TAG], [])
        for record in failed
        if INTERRUPTED_TAG in record.dagster_run.tags
        and not instance.get_run_ids(
            filters=dg.RunsFilter(tags={PARENT_RUN_TAG: record.dagster_run.run_id}), limit=1
        )
    ]
    return [*dead_runs(instance, store), *not_resumed]


def _interrupted(
    store: Store, run: dg.DagsterRun, reason: str, beats: Sequence[Beat]
) -> InterruptedRun:
    metric_ids = run_metric_ids(run.tags, run.run_config)
    busy = [beat.step for beat in sorted(beats, key=lambda beat: beat.beat_at) if beat.step]
    return InterruptedRun(
        run_id=run.run_id,
        job_name=run.job_name,
        status=run.status.value.lower(),
        metric_ids=metric_ids,
        last_step=busy[-1] if busy else _last_step(store, metric_ids, run.run_id),
        reason=reason,
    )


def _last_step(store: Store, metric_ids: Sequence[str], run_id: str) -> str | None:
    """The last step the run started on any of its metrics, from the step log."""
    started = [
        (row["started_at"], row["endpoint"])
        for metric_id in metric_ids
        for row in store.refresh_log.steps(metric_id, run_id)
        if row["started_at"]
    ]
    return s.step_of(max(started)[1]) if started else None


def recover(instance: dg.DagsterInstance, store: Store) -> list[InterruptedRun]:
    """Fail every dead run in Dagster, release every metric a dead run still holds (its
    running step `interrupted`), and forget the beats of runs that are over.
    Returns the runs it failed. Idempotent: the sweep sensor and `orbit recover` both call it."""
    dead = dead_runs(instance, store)
    for interrupted in dead:
        run = instance.get_run_by_id(interrupted.run_id)
        if run is not None:
            fail_dead_run(instance, run, interrupted.reason)
    is_active = run_is_active(instance, store)
    for metric_id, run_id in store.refresh_log.held_locks().items():
        if not is_active(run_id):
            store.refresh_log.release_dead(metric_id, run_id)
    for run_id in store.heartbeats.run_ids():
        if not is_active(run_id):
            store.heartbeats.forget(run_id)
    return dead
