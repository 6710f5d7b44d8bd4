"""Heartbeats: which beats make a run dead, and the beat a step keeps while it works."""

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from contextlib import nullcontext

import psutil
import pytest

from orbit_dagster import liveness
from orbit_dagster.liveness import STALE_AFTER, dead_reason, this_process, working_on
from orbit_dagster.store.heartbeats import Beat
from orbit_dagster.store.records import utcnow

HERE = socket.gethostname()
NOW = dt.datetime(2026, 11, 29, 12, 0, 0)


def beat(
    host: str = HERE,
    pid: int | None = None,
    started: float | None = None,
    step: str | None = "fetching-api-data",
    age_s: float = 0.0,
) -> Beat:
    me = this_process()
    return Beat(
        run_id="r1",
        host=host,
        pid=me.pid if pid is None else pid,
        process_started=me.started if started is None else started,
        metric_id="m1",
        step=step,
        started_at=NOW - dt.timedelta(seconds=age_s),
        beat_at=NOW - dt.timedelta(seconds=age_s),
    )


def dead_pid() -> tuple[int, float]:
    """The pid and start time of a process that has exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    started = psutil.Process(child.pid).create_time()
    child.wait()
    return child.pid, started


def test_a_live_process_on_this_host_keeps_its_run_alive_however_old_its_beat():
    assert dead_reason([beat(age_s=3600)], now=NOW, host=HERE) is None


def test_a_gone_process_on_this_host_is_dead_at_once_even_idle():
    pid, started = dead_pid()
    for step in ("fetching-api-data", None):
        reason = dead_reason([beat(pid=pid, started=started, step=step)], now=NOW, host=HERE)
        assert reason == f"its process (pid {pid} on {HERE}) is gone"


def test_a_reused_pid_is_another_process():
    # Our own pid with another start time: the process that beat is not this one.
    reason = dead_reason([beat(started=this_process().started - 100)], now=NOW, host=HERE)
    assert reason is not None and "is gone" in reason


def test_elsewhere_a_busy_process_is_dead_only_after_the_bound():
    fresh = beat(host="other", age_s=STALE_AFTER.total_seconds() - 1)
    stale = beat(host="other", age_s=STALE_AFTER.total_seconds() + 1)
    assert dead_reason([fresh], now=NOW, host=HERE) is None
    reason = dead_reason([stale], now=NOW, host=HERE)
    assert reason is not None and "has not beaten since" in reason and "fetching-api-data" in reason


def test_elsewhere_an_idle_process_says_nothing():
    # Between two steps a Celery run may wait in a queue for as long as workers are busy.
    assert dead_reason([beat(host="other", step=None, age_s=3600)], now=NOW, host=HERE) is None


def test_one_live_process_outweighs_dead_ones_and_no_beat_is_no_verdict():
    pid, started = dead_pid()
    gone = beat(pid=pid, started=started)
    assert dead_reason([gone, beat(host="other", age_s=1)], now=NOW, host=HERE) is None
    assert dead_reason([], now=NOW, host=HERE) is None


@pytest.mark.parametrize("outcome", ["success", "error"])
def test_a_step_beats_while_it_works_and_leaves_an_idle_row(store, monkeypatch, outcome):
    monkeypatch.setattr(liveness, "HEARTBEAT_INTERVAL", dt.timedelta(seconds=0.05))
    monkeypatch.setattr(liveness, "_beater", liveness._Beater())  # a thread with that interval
    with pytest.raises(RuntimeError) if outcome == "error" else nullcontext():
        with working_on(store, "run-1", "saving-timeseries-data", "m1"):
            (first,) = store.heartbeats.of_run("run-1")
            assert (first.pid, first.host, first.step) == (
                os.getpid(),
                HERE,
                "saving-timeseries-data",
            )
            time.sleep(0.5)
            (later,) = store.heartbeats.of_run("run-1")
            assert later.beat_at > first.beat_at  # the thread beat meanwhile
            if outcome == "error":
                raise RuntimeError("the step failed")
    (idle,) = store.heartbeats.of_run("run-1")
    assert idle.step is None and idle.beat_at >= utcnow() - dt.timedelta(seconds=5)
    store.heartbeats.forget("run-1")
    assert store.heartbeats.of_run("run-1") == []
