"""The refresh lifecycle in the store: the per-metric lock, the step log and progress records.

A run claims a metric (compare-and-set on `metrics.refresh_run_id`), writes its whole plan
as `pipeline:<step>` rows under the caller's pipeline (job) name, and moves each row through
running → success / skipped / failed.
When no planned step is left the refresh completes; when one fails the rest are cancelled.
Whether a run still lives is Dagster's knowledge, not the store's: callers pass
`is_run_active(run_id)`, so a lock or status left by a crashed run is recognised as stale.
Progress comes out as records; the caller shapes them for display (`refresh/progress.py`).
"""

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from orbit_dagster.store import schema as t
from orbit_dagster.store import step_log as s
from orbit_dagster.store.records import MetricBusyError, MetricNotFoundError, iso, utcnow

RunIsActive = Callable[[str], bool]

_logs = t.metric_api_logs
_metrics = t.metrics
_runs = t.pipeline_runs


@dataclass(frozen=True)
class Claim:
    """What claiming a metric for a run records: the run's job, mode and plan (every step in
    run order to None, or why it is skipped), and how to tell whether a holder still lives."""

    pipeline_name: str
    mode: str
    plan: Mapping[str, str | None]
    is_run_active: RunIsActive


@dataclass(frozen=True)
class Finished:
    """A step's end (success or skipped), written with the next step's start."""

    step: str
    status: str
    finished_at: dt.datetime
    duration_ms: int
    detail: str | None


@dataclass(frozen=True)
class StepRecord:
    """One step-log row of the run progress is reported for, in plan order."""

    step: str
    status: str
    duration_ms: int | None
    error: str | None


@dataclass(frozen=True)
class RefreshProgress:
    """A metric's current (or last) refresh: None run_id when it was never refreshed."""

    run_id: str | None = None
    mode: str | None = None
    processing: bool = False
    current_step: str | None = None
    steps: list[StepRecord] = field(default_factory=list)
    error: str | None = None

    @property
    def finished_steps(self) -> list[StepRecord]:
        return [step for step in self.steps if step.status in s.FINISHED_STATUSES]


class RefreshLog:
    def __init__(self, engine: sa.Engine):
        self.engine = engine

    def begin(
        self,
        metric_id: str,
        run_id: str,
        *,
        pipeline_name: str,
        mode: str,
        plan: Mapping[str, str | None],
        is_run_active: RunIsActive,
    ) -> None:
        """Claim the metric for `run_id` and record the run's plan; idempotent per run.

        `plan` maps every step, in run order, to None (it will run) or why it is skipped;
        `pipeline_name` is the job the run belongs to, as `pipeline_runs` records it.

        Refused with MetricBusyError while another live run holds the metric. A lock held
        by a run that is no longer active is taken over, and that run's leftovers closed.
        """
        claim = Claim(pipeline_name, mode, plan, is_run_active)
        with self.engine.begin() as conn:
            self._claim(conn, metric_id, run_id, claim)

    def start_step(
        self,
        metric_id: str,
        run_id: str,
        step: str,
        claim: "Claim | None" = None,
        finished: "Finished | None" = None,
    ) -> None:
        """Mark `step` running and the metric's `refresh_status`, in one transaction with,
        first, the claim as `begin` makes it (`claim`) and the end of the step before
        (`finished`, when the steps run in one go): one commit per step."""
        now = utcnow()
        with self.engine.begin() as conn:
            if claim is not None:
                self._claim(conn, metric_id, run_id, claim)
            if finished is not None:
                ended = _ended(finished.status, finished.finished_at, finished.duration_ms)
                _set_step(conn, metric_id, run_id, finished.step, **ended, detail=finished.detail)
            _set_step(conn, metric_id, run_id, step, status=s.RUNNING, started_at=now)
            conn.execute(
                _metrics.update()
                .where(_metrics.c.id == metric_id, _metrics.c.refresh_run_id == run_id)
                .values(refresh_status=step, updated_at=now)
            )

    def _claim(self, conn: sa.Connection, metric_id: str, run_id: str, claim: "Claim") -> None:
        holder = conn.execute(
            sa.select(_metrics.c.refresh_run_id).where(_metrics.c.id == metric_id)
        ).first()
        if holder is None:
            raise MetricNotFoundError(metric_id)
        holder_run = holder[0]
        if holder_run == run_id:
            return
        if holder_run is not None:
            if claim.is_run_active(holder_run):
                raise MetricBusyError(
                    f"metric '{metric_id}' is being refreshed by run {holder_run}; run "
                    f"{run_id} was refused so that two refreshes never interleave. "
                    "Try again when that run has finished."
                )
            # Closing the stale run releases its lock, so the claim below expects none.
            _interrupt_run(conn, metric_id, holder_run)
            holder_run = None
        # Compare-and-set: of two runs claiming at once, exactly one sees rowcount 1.
        claimed = conn.execute(
            _metrics.update()
            .where(_metrics.c.id == metric_id)
            .where(_metrics.c.refresh_run_id.is_not_distinct_from(holder_run))
            .values(refresh_run_id=run_id, refresh_status=None)
        )
        if claimed.rowcount != 1:
            raise MetricBusyError(
                f"metric '{metric_id}' was claimed by another run at the same moment; "
                f"run {run_id} was refused"
            )
        self._write_plan(conn, metric_id, run_id, claim.pipeline_name, claim.mode, claim.plan)

    def finish_step(
        self,
        metric_id: str,
        run_id: str,
        step: str,
        *,
        status: str,
        duration_ms: int,
        detail: str | None = None,
    ) -> bool:
        """Record a step as success or skipped; completes the refresh after its last step.

        Returns True when this finished the whole refresh.
        """
        now = utcnow()
        with self.engine.begin() as conn:
            _set_step(
                conn, metric_id, run_id, step, **_ended(status, now, duration_ms), detail=detail
            )
            open_steps = conn.execute(
                sa.select(sa.func.count())
                .select_from(_logs)
                .where(
                    _logs.c.metric_id == metric_id,
                    _logs.c.run_id == run_id,
                    _logs.c.status.in_([s.PENDING, s.RUNNING]),
                )
            ).scalar_one()
            if open_steps:
                return False
            conn.execute(
                _metrics.update()
                .where(_metrics.c.id == metric_id, _metrics.c.refresh_run_id == run_id)
                .values(
                    refresh_status=None,
                    refresh_run_id=None,
                    last_fetched_at=now,
                    last_error=None,
                    last_error_at=None,
                    updated_at=now,
                )
            )
            _end_run(conn, metric_id, run_id, status=s.SUCCESS, error=None)
            return True

    def fail_step(
        self, metric_id: str, run_id: str, step: str, *, error: str, duration_ms: int
    ) -> None:
        """Record the failure, cancel the steps that will not run, release the metric."""
        with self.engine.begin() as conn:
            ended = _ended(s.FAILED, utcnow(), duration_ms)
            _set_step(conn, metric_id, run_id, step, **ended, error=error)
            _close_run(conn, metric_id, run_id, f"{step}: {error}")

    def record_run_failure(
        self, run_id: str, pipeline_name: str, metric_ids: list[str], error: str
    ) -> list[str]:
        """Record a failed Dagster run for each metric it covered (or for none: a null row).

        Steps that failed on their own are already recorded; this covers what they cannot
        see: a run refused or killed before or between steps. Returns the metrics whose
        record this changed. Idempotent: a run already recorded as failed is left alone.
        """
        changed = []
        with self.engine.begin() as conn:
            for metric_id in metric_ids or [None]:
                row = conn.execute(
                    sa.select(_runs.c.status).where(
                        _runs.c.run_id == run_id, _runs.c.metric_id.is_not_distinct_from(metric_id)
                    )
                ).first()
                if row is not None and row.status != s.RUNNING:
                    continue
                if (
                    metric_id is not None
                    and not conn.execute(
                        sa.select(_metrics.c.id).where(_metrics.c.id == metric_id)
                    ).first()
                ):
                    continue  # deleted since: nothing of it is left to mark
                if row is None:
                    conn.execute(
                        _runs.insert().values(
                            run_id=run_id,
                            pipeline_name=pipeline_name,
                            metric_id=metric_id,
                            status=s.RUNNING,
                            started_at=utcnow(),
                            stages=[],
                        )
                    )
                if metric_id is None:
                    _end_run(conn, None, run_id, status=s.FAILED, error=error)
                else:
                    _close_run(conn, metric_id, run_id, error)
                    # Not over a refresh another run is doing right now.
                    conn.execute(
                        _metrics.update()
                        .where(_metrics.c.id == metric_id, _metrics.c.refresh_run_id.is_(None))
                        .values(last_error=error, last_error_at=utcnow())
                    )
                changed.append(metric_id)
        return [m for m in changed if m is not None]

    def held_locks(self) -> dict[str, str]:
        """Every metric held by a run: {metric id: run id}."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(_metrics.c.id, _metrics.c.refresh_run_id).where(
                    _metrics.c.refresh_run_id.is_not(None)
                )
            )
            return {row.id: row.refresh_run_id for row in rows}

    def release_dead(self, metric_id: str, run_id: str) -> bool:
        """Close what a dead run left of a metric's refresh (its running step `interrupted`,
        the rest `cancelled`) and release the metric. False when `run_id` no longer holds it
        (it finished meanwhile, or another claim took over first)."""
        with self.engine.begin() as conn:
            # FOR UPDATE on Postgres (SQLite renders none and serialises writers itself).
            holder = conn.execute(
                sa.select(_metrics.c.refresh_run_id)
                .where(_metrics.c.id == metric_id)
                .with_for_update()
            ).scalar()
            if holder != run_id:
                return False
            _interrupt_run(conn, metric_id, run_id)
            return True

    def run_ids(self, metric_id: str) -> list[str]:
        """Every run recorded for a metric, newest first."""
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(_runs.c.run_id)
                    .where(_runs.c.metric_id == metric_id)
                    .order_by(_runs.c.started_at.desc(), _runs.c.id.desc())
                ).scalars()
            )

    def steps(self, metric_id: str, run_id: str) -> list[dict[str, Any]]:
        """The step-log rows of one run of one metric, in plan order."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(_logs)
                .where(_logs.c.metric_id == metric_id, _logs.c.run_id == run_id)
                .order_by(_logs.c.seq)
            ).mappings()
            return [
                {
                    **row,
                    "started_at": iso(row["started_at"]),
                    "finished_at": iso(row["finished_at"]),
                }
                for row in rows
            ]

    def progress(
        self,
        metric_id: str,
        *,
        organization: str | None = None,
        is_run_active: RunIsActive,
    ) -> RefreshProgress:
        """The current or last run's finished steps, current step and error.

        Scoped to `organization` when given (another organization's metric is 'not found').
        A status left behind by a run that is no longer active is not reported as processing.
        """
        with self.engine.connect() as conn:
            query = sa.select(
                _metrics.c.refresh_status, _metrics.c.refresh_run_id, _metrics.c.last_error
            ).where(_metrics.c.id == metric_id)
            if organization is not None:
                query = query.where(_metrics.c.organization == organization)
            metric = conn.execute(query).first()
            if metric is None:
                raise MetricNotFoundError(metric_id)
            run_id = _current_or_last_run(conn, metric_id)
            if run_id is None:
                return RefreshProgress()
            rows = conn.execute(
                sa.select(_logs.c.endpoint, _logs.c.status, _logs.c.duration_ms, _logs.c.error)
                .where(_logs.c.metric_id == metric_id, _logs.c.run_id == run_id)
                .order_by(_logs.c.seq)
            ).all()
            run = conn.execute(
                sa.select(_runs.c.error, _runs.c.mode).where(
                    _runs.c.run_id == run_id, _runs.c.metric_id == metric_id
                )
            ).first()
        holds_lock = metric.refresh_run_id == run_id
        processing = holds_lock and is_run_active(run_id)
        error = run.error if run else None
        if holds_lock and not processing:
            error = f"run {run_id} stopped without finishing the refresh"
        running = [s.step_of(r.endpoint) for r in rows if r.status == s.RUNNING]
        return RefreshProgress(
            run_id=run_id,
            mode=run.mode if run else None,
            processing=processing,
            current_step=(metric.refresh_status or (running[0] if running else None))
            if processing
            else None,
            steps=[
                StepRecord(s.step_of(r.endpoint), r.status, r.duration_ms, r.error) for r in rows
            ],
            error=error,
        )

    @staticmethod
    def _write_plan(
        conn: sa.Connection,
        metric_id: str,
        run_id: str,
        pipeline_name: str,
        mode: str,
        plan: Mapping[str, str | None],
    ) -> None:
        """Write the plan rows and the run row; a retry of the same run reopens them."""
        existing = conn.execute(
            sa.select(_runs.c.id).where(_runs.c.run_id == run_id, _runs.c.metric_id == metric_id)
        ).first()
        if existing is not None:
            # The same run claims again after a failed attempt (an op retry): reopen it.
            conn.execute(
                _logs.update()
                .where(_logs.c.metric_id == metric_id, _logs.c.run_id == run_id)
                .where(_logs.c.status.in_([s.FAILED, s.CANCELLED, s.INTERRUPTED, s.RUNNING]))
                .values(status=s.PENDING, error=None, finished_at=None, duration_ms=None)
            )
            conn.execute(
                _runs.update()
                .where(_runs.c.id == existing[0])
                .values(status=s.RUNNING, error=None, finished_at=None)
            )
            return
        now = utcnow()
        conn.execute(
            _runs.insert().values(
                run_id=run_id,
                pipeline_name=pipeline_name,
                metric_id=metric_id,
                mode=mode,
                status=s.RUNNING,
                started_at=now,
                stages=[],
            )
        )
        conn.execute(
            _logs.insert(),
            [
                {
                    "metric_id": metric_id,
                    "run_id": run_id,
                    "seq": seq,
                    "endpoint": s.endpoint(step),
                    "status": s.PENDING if reason is None else s.SKIPPED,
                    "detail": reason,
                }
                for seq, (step, reason) in enumerate(plan.items())
            ],
        )


def _set_step(conn: sa.Connection, metric_id: str, run_id: str, step: str, **values: Any) -> None:
    conn.execute(
        _logs.update()
        .where(
            _logs.c.metric_id == metric_id,
            _logs.c.run_id == run_id,
            _logs.c.endpoint == s.endpoint(step),
        )
        .values(**values)
    )


def _ended(status: str, finished_at: dt.datetime, duration_ms: int) -> dict[str, Any]:
    """The values that close a step's row: its final status, when, and how long it took."""
    return {"status": status, "finished_at": finished_at, "duration_ms": duration_ms}


def _close_run(conn: sa.Connection, metric_id: str, run_id: str, error: str) -> None:
    """End a run of a metric as failed: cancel its open steps, release the metric."""
    now = utcnow()
    conn.execute(
        _logs.update()
        .where(
            _logs.c.metric_id == metric_id,
            _logs.c.run_id == run_id,
            _logs.c.status.in_([s.PENDING, s.RUNNING]),
        )
        .values(status=s.CANCELLED, finished_at=now)
    )
    conn.execute(
        _metrics.update()
        .where(_metrics.c.id == metric_id, _metrics.c.refresh_run_id == run_id)
        .values(
            refresh_status=None,
            refresh_run_id=None,
            last_error=error,
            last_error_at=now,
            updated_at=now,
        )
    )
    _end_run(conn, metric_id, run_id, status=s.FAILED, error=error)


def _interrupt_run(conn: sa.Connection, metric_id: str, run_id: str) -> None:
    """End a run that died on a metric: the step it was in is `interrupted`, not failed (it
    raised nothing), and the planned ones after it never ran."""
    conn.execute(
        _logs.update()
        .where(_logs.c.metric_id == metric_id, _logs.c.run_id == run_id)
        .where(_logs.c.status == s.RUNNING)
        .values(status=s.INTERRUPTED, finished_at=utcnow())
    )
    _close_run(conn, metric_id, run_id, f"interrupted: run {run_id} stopped without finishing")


def _end_run(
    conn: sa.Connection, metric_id: str | None, run_id: str, *, status: str, error: str | None
) -> None:
    """Close the run row with per-stage results taken from the step log."""
    stages = [
        {
            "step": s.step_of(r.endpoint),
            "status": r.status,
            "durationMs": r.duration_ms,
            "error": r.error,
        }
        for r in conn.execute(
            sa.select(_logs.c.endpoint, _logs.c.status, _logs.c.duration_ms, _logs.c.error)
            .where(_logs.c.metric_id == metric_id, _logs.c.run_id == run_id)
            .order_by(_logs.c.seq)
        )
    ]
    conn.execute(
        _runs.update()
        .where(_runs.c.run_id == run_id, _runs.c.metric_id.is_not_distinct_from(metric_id))
        .values(status=status, error=error, finished_at=utcnow(), stages=stages)
    )


def _current_or_last_run(conn: sa.Connection, metric_id: str) -> str | None:
    holder = conn.execute(
        sa.select(_metrics.c.refresh_run_id).where(_metrics.c.id == metric_id)
    ).scalar()
    if holder is not None:
        return holder
    return conn.execute(
        sa.select(_runs.c.run_id)
        .where(_runs.c.metric_id == metric_id)
        .order_by(_runs.c.started_at.desc(), _runs.c.id.desc())
        .limit(1)
    ).scalar()
