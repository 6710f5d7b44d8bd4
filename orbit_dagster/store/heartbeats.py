"""`Heartbeats`: which process works on which run, and when it last said so.

One row per (run, host, pid), written by that process only, so an update-then-insert needs
no engine-specific upsert. Whether a beat means the run is alive is decided in
`orbit_dagster/liveness.py`; this module only stores and reads the beats.
"""

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from orbit_dagster.store import schema as t
from orbit_dagster.store.records import utcnow

_beats = t.run_heartbeats


@dataclass(frozen=True)
class Beat:
    """The last heartbeat of one process working on a run."""

    run_id: str
    host: str
    pid: int
    process_started: float
    metric_id: str | None
    step: str | None
    started_at: dt.datetime
    beat_at: dt.datetime


class Heartbeats:
    def __init__(self, engine: sa.Engine):
        self.engine = engine

    def beat(
        self,
        run_id: str,
        *,
        host: str,
        pid: int,
        process_started: float,
        metric_id: str | None = None,
        step: str | None = None,
    ) -> None:
        """Record that this process works on `run_id` now (on `step` of `metric_id`)."""
        now = utcnow()
        key = (_beats.c.run_id == run_id, _beats.c.host == host, _beats.c.pid == pid)
        with self.engine.begin() as conn:
            updated = conn.execute(
                _beats.update().where(*key).values(metric_id=metric_id, step=step, beat_at=now)
            )
            if updated.rowcount == 0:
                conn.execute(
                    _beats.insert().values(
                        run_id=run_id,
                        host=host,
                        pid=pid,
                        process_started=process_started,
                        metric_id=metric_id,
                        step=step,
                        started_at=now,
                        beat_at=now,
                    )
                )

    def end(self, run_id: str, *, host: str, pid: int) -> None:
        """This process no longer works on `run_id` (its step ended, however it ended)."""
        with self.engine.begin() as conn:
            conn.execute(
                _beats.delete().where(
                    _beats.c.run_id == run_id, _beats.c.host == host, _beats.c.pid == pid
                )
            )

    def of_run(self, run_id: str) -> list[Beat]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(_beats).where(_beats.c.run_id == run_id)).mappings()
            return [Beat(**row) for row in rows]

    def run_ids(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(_beats.c.run_id).distinct()).scalars())

    def forget(self, run_id: str) -> None:
        """Drop every beat of a run found dead: nothing of it works any more."""
        with self.engine.begin() as conn:
            conn.execute(_beats.delete().where(_beats.c.run_id == run_id))
