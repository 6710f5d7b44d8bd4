"""Whether a run's processes still live, told by heartbeats in the Orbit store.

Dagster cannot always tell: a run executed in the `orbit` process or by the default run
launcher stays STARTED forever after a `kill -9` (nothing is left to report its end, and
that launcher has no health check). So every process working on a step of a run beats:
`working_on(...)` writes a row at once, a daemon thread rewrites it every
`HEARTBEAT_INTERVAL` while the step runs, and the step's end leaves the row idle.

`dead_reason` reads a run's beats:
- a process on this host that is gone (or whose pid now belongs to another process) is dead;
- a process elsewhere that has not beaten for `STALE_AFTER` while on a step is dead;
- an idle process elsewhere says nothing: between two steps a Celery run may wait in a
  queue for as long as its workers are busy, so silence is not death there.
A run is dead when one of its processes is dead and none is alive. With no verdict (no beats,
or only idle ones elsewhere) Dagster's run status decides alone.
"""

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

import psutil  # the portable way to ask whether a pid is the process that wrote the beat

from orbit_dagster.store import Store
from orbit_dagster.store.heartbeats import Beat
from orbit_dagster.store.records import utcnow

HEARTBEAT_INTERVAL = dt.timedelta(seconds=10)
STALE_AFTER = dt.timedelta(seconds=60)
# Start times of one process read twice agree to the clock tick; another process differs.
SAME_PROCESS_TOLERANCE_S = 1.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProcessIdentity:
    host: str
    pid: int
    started: float


def this_process() -> ProcessIdentity:
    """Keyed by the current pid: a forked child is another process than its parent."""
    return _identity(os.getpid())


@cache
def _identity(pid: int) -> ProcessIdentity:
    """Read once per process, not at every beat (host name and start time do not change)."""
    return ProcessIdentity(socket.gethostname(), pid, psutil.Process(pid).create_time())


def process_lives(pid: int, started: float) -> bool:
    """Whether the process that recorded (`pid`, `started`) on this host still runs."""
    try:
        process = psutil.Process(pid)
        return (
            abs(process.create_time() - started) < SAME_PROCESS_TOLERANCE_S
            and process.status() != psutil.STATUS_ZOMBIE
        )
    except psutil.NoSuchProcess:
        return False


def dead_reason(
    beats: Sequence[Beat], *, now: dt.datetime | None = None, host: str | None = None
) -> str | None:
    """Why the run these beats belong to is dead, or None when they show it alive or say
    nothing (see the module's docstring). `now` is naive UTC, as the store keeps time."""
    now = now or utcnow()
    host = host or socket.gethostname()
    reasons = []
    for beat in beats:
        where = f"pid {beat.pid} on {beat.host}"
        if beat.host == host:
            if process_lives(beat.pid, beat.process_started):
                if beat.step is not None:
                    return None
                continue
            reasons.append(f"its process ({where}) is gone")
        elif beat.step is not None:
            if now - beat.beat_at <= STALE_AFTER:
                return None
            reasons.append(
                f"its process ({where}) has not beaten since {beat.beat_at:%Y-%m-%d %H:%M:%S} UTC"
                f" (during {beat.step}; the bound is {STALE_AFTER.seconds} s)"
            )
    return "; ".join(reasons) or None


@dataclass
class _Work:
    store: Store
    metric_id: str | None
    step: str


class _Beater:
    """One daemon thread per process rewriting the beat of every step this process runs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._work: dict[tuple[str, str], _Work] = {}
        self._thread: threading.Thread | None = None

    def add(self, run_id: str, work: _Work) -> None:
        with self._lock:
            self._work[(work.store.url, run_id)] = work
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="orbit-heartbeat")
                self._thread.daemon = True  # never keeps a finished process alive
                self._thread.start()

    def remove(self, run_id: str, store: Store) -> None:
        with self._lock:
            self._work.pop((store.url, run_id), None)

    def _run(self) -> None:
        wake = threading.Event()
        while not wake.wait(HEARTBEAT_INTERVAL.total_seconds()):
            with self._lock:
                work = list(self._work.items())
            for (_url, run_id), item in work:
                try:
                    _beat(item.store, run_id, item.metric_id, item.step)
                except Exception as error:  # the step itself will meet a store that is down
                    log.warning("heartbeat of run %s not written: %s", run_id, error)


_beater = _Beater()


def _beat(store: Store, run_id: str, metric_id: str | None, step: str | None) -> None:
    me = this_process()
    store.heartbeats.beat(
        run_id,
        host=me.host,
        pid=me.pid,
        process_started=me.started,
        metric_id=metric_id,
        step=step,
    )


@contextmanager
def working_on(
    store: Store, run_id: str, step: str, metric_id: str | None = None
) -> Iterator[None]:
    """Beat for `run_id` while the block runs `step`; the row stays, idle, after it."""
    _beat(store, run_id, metric_id, step)
    _beater.add(run_id, _Work(store, metric_id, step))
    try:
        yield
    finally:
        _beater.remove(run_id, store)
        try:
            _beat(store, run_id, metric_id, None)
        except Exception as error:  # the step's own outcome matters more than the beat
            log.warning("heartbeat of run %s not closed: %s", run_id, error)
