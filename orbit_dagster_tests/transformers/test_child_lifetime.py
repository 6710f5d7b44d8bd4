"""Sandbox children live no longer than their parent, and never run a thread.

The parent here is a real process killed with SIGKILL; its children (a one-off run and pool
workers started for threads that have since ended) must be gone at once, by the kernel's
parent-death signal. No thread: a child exiting under RLIMIT_NOFILE=3 with a thread alive can
abort (SIGABRT, glibc cannot open libgcc_s for pthread_exit), as a watcher thread once did.
"""

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from orbit_dagster.transformers import (
    SandboxLimits,
    SandboxPool,
    TransformerError,
    run_ingestion,
    run_transformer,
)
from orbit_dagster.transformers.child_process import child_command
from orbit_dagster_tests.transformers.processes import alive, is_pool_worker, sandbox_children

LIMITS = SandboxLimits(wall_seconds=10, cpu_seconds=2, memory_mb=256)
ENDLESS = "def transform(points, config):\n    while True:\n        pass\n"
QUICK = (
    "def transform(points, config):\n"
    "    return {'$schema': 'https://vega.github.io/schema/vega-lite/v5.json', 'mark': 'line'}\n"
)

# Two pools whose worker each was started for a thread that has ended by the time the parent
# is killed (the kernel's parent is the thread that starts a child: they must not die with
# it), one worker busy with endless code, the other idle; and a one-off child running endless
# code. CPU limits of a minute, so that only their parent's death can end them in the test.
PARENT = f"""
import threading
from orbit_dagster.transformers import SandboxLimits, SandboxPool, run_transformer
limits = SandboxLimits(wall_seconds=600, cpu_seconds=60)

def in_a_thread(code, pool):
    thread = threading.Thread(target=run_transformer, args=(code, [], {{}}),
                              kwargs={{"kind": "chart", "pool": pool}})
    thread.start()
    return thread

busy, idle = SandboxPool(size=1, limits=limits), SandboxPool(size=1, limits=limits)
in_a_thread({QUICK!r}, busy).join()
in_a_thread({QUICK!r}, idle).join()
in_a_thread({ENDLESS!r}, busy)
run_transformer({ENDLESS!r}, [], {{}}, kind="chart", limits=limits)
"""


def test_children_die_at_once_when_their_parent_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", PARENT])
    try:
        deadline = time.monotonic() + 20
        while len(children := sandbox_children(parent.pid)) < 3:
            assert parent.poll() is None, "the parent ended before it started its children"
            assert time.monotonic() < deadline, f"only {children} started"
            time.sleep(0.05)
        assert sorted(map(is_pool_worker, children)) == [False, True, True]
        time.sleep(0.5)  # past their start: the busy ones are in their endless loops
        assert all(map(alive, children)) and parent.poll() is None
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        killed_at = time.monotonic()
        while living := [child for child in children if alive(child)]:
            assert time.monotonic() - killed_at < 2, f"children {living} outlived their parent"
            time.sleep(0.01)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def test_a_child_whose_parent_is_already_gone_ends_at_once():
    # The parent can die before the child asks for the signal: then the child's parent is no
    # longer the pid it was started with. Here that pid is simply not its parent.
    command = child_command(LIMITS, parent_pid=os.getppid())
    request = json.dumps({"kind": "chart", "code": ENDLESS, "data": [], "config": {}})
    ended = subprocess.run(command, input=request.encode(), capture_output=True, timeout=30)
    assert ended.returncode == 1
    assert ended.stdout == b""
    assert f"its parent (pid {os.getppid()}) has already ended" in ended.stderr.decode()


def test_a_child_runs_no_thread():
    before = set(sandbox_children())
    with SandboxPool(size=1, limits=LIMITS) as pool:
        run_transformer(QUICK, [], kind="chart", pool=pool)
        # Idle after a call: everything the child starts before reading requests has run.
        [worker] = set(sandbox_children()) - before
        status = Path(f"/proc/{worker}/status").read_text()
        assert "\nThreads:\t1\n" in status


def test_children_exit_under_the_file_limit_with_their_answer():
    # Each answer is written just before the child exits, with RLIMIT_NOFILE at 3: an abort at
    # exit would turn it into "transformer process failed (SIGABRT)". KEEP lengthens the exit
    # (300,000 strings to free), the window in which a thread woke to abort: the reverted
    # watcher thread aborted 18 of 100 such exits, so 40 of them catch it almost surely.
    code = (
        "KEEP = []\n"
        "def transform(payload, config):\n"
        "    KEEP.append([str(n) for n in range(300_000)])\n"
        "    return [{'date': '2026-10-01', 'value': payload}]\n"
    )

    def one(n: int) -> str:
        try:
            return str(run_ingestion(code, n, limits=LIMITS).points[0]["value"])
        except TransformerError as error:
            return str(error)

    with ThreadPoolExecutor(max_workers=2) as executor:
        answers = list(executor.map(one, range(40)))
    assert answers == [str(float(n)) for n in range(40)]
