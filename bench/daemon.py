"""A real `dagster-daemon` for benchmarks, and what its processes cost while it works.

`running_daemon` starts `dagster-daemon run -w workspace.yaml` from the project folder (so it
loads the code location users deploy, through its own code server) in a process group of its
own, and kills that group on exit whatever happened. `ProcessTree` watches the daemon and all
its descendants with psutil: their CPU time over a window, and the peak resident memory of
each run worker alone and with its own children (the sandbox workers). The default run launcher
asks the code server to start a run, which it does in a `multiprocessing` "spawn" child, one per
run: those are the run workers. (A run of another job in the window, say `pipeline_health` at a
quarter hour, is one of them too; the caller can tell from the run storage.)
"""

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from orbit_dagster import settings

STOP_SECONDS = 30
# Fine enough to catch a run worker's peak (a batch keeps its points for seconds), cheap
# enough to leave the two cores to the runs: one sweep reads a handful of /proc entries.
SAMPLE_SECONDS = 0.2
# The argument Python's multiprocessing gives a spawned child, and only that (the code
# server's resource tracker is started otherwise): on the code server's children, a run worker.
RUN_WORKER_MARK = "--multiprocessing-fork"


@contextmanager
def running_daemon(env: Mapping[str, str], log_path: Path) -> Iterator[subprocess.Popen]:
    """`dagster-daemon run -w workspace.yaml` with `env`, logging to `log_path`."""
    with open(log_path, "wb") as log:
        daemon = subprocess.Popen(
            [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", "workspace.yaml"],
            cwd=settings.PROJECT_ROOT,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own group: the code server and run workers it starts die with it below.
            start_new_session=True,
        )
    try:
        yield daemon
    finally:
        stop(daemon)


def stop(daemon: subprocess.Popen) -> None:
    """SIGTERM to the daemon's group, SIGKILL if it lingers; then any descendant that left it."""
    try:
        descendants = psutil.Process(daemon.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        descendants = []
    try:
        os.killpg(daemon.pid, signal.SIGTERM)
        daemon.wait(timeout=STOP_SECONDS)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(daemon.pid, signal.SIGKILL)
        daemon.wait()
    # Sandbox workers run in process groups of their own (and die with their parent anyway);
    # whatever is still alive of the tree the daemon had is ended here, by pid.
    for process in descendants:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass


@dataclass
class Peak:
    """The largest resident set seen of one run worker, alone and with its children."""

    alone: int = 0
    with_children: int = 0


class ProcessTree:
    """Samples the daemon's process tree on a thread: CPU time at marks, run workers' peaks."""

    def __init__(self, root_pid: int) -> None:
        self.root = psutil.Process(root_pid)
        self.peaks: dict[int, Peak] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, daemon=True)

    def __enter__(self) -> "ProcessTree":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def cpu_seconds(self) -> float:
        """CPU time of the tree so far: every live process's own time plus that of the
        children it has reaped (which holds their own reaped children's, and so on)."""
        total = 0.0
        for process in [self.root, *self._descendants()]:
            try:
                times = process.cpu_times()
            except (psutil.NoSuchProcess, psutil.ZombieProcess):
                continue  # ended: its time is in its parent's children_* once reaped
            total += times.user + times.system + times.children_user + times.children_system
        return total

    def _descendants(self) -> list[psutil.Process]:
        try:
            return self.root.children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def _sample_until_stopped(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            for process in self._descendants():
                try:
                    if RUN_WORKER_MARK in process.cmdline():
                        self._note(process)
                except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
                    continue

    def _note(self, worker: psutil.Process) -> None:
        alone = worker.memory_info().rss
        children = 0
        for child in worker.children(recursive=True):
            try:
                children += child.memory_info().rss
            except (psutil.NoSuchProcess, psutil.ZombieProcess):
                continue
        peak = self.peaks.setdefault(worker.pid, Peak())
        peak.alone = max(peak.alone, alone)
        peak.with_children = max(peak.with_children, alone + children)


def wait_until(deadline: float, done: Callable[[], bool], daemon: subprocess.Popen, log: Path):
    """Poll `done` twice a second until it holds; fail if the daemon dies or time runs out."""
    while not done():
        if daemon.poll() is not None:
            raise RuntimeError(f"dagster-daemon exited:\n{log.read_text()[-3000:]}")
        if time.time() > deadline:
            raise TimeoutError(f"gave up waiting; daemon log:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
