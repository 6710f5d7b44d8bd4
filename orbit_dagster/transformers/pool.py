"""A warm pool of sandbox workers, for running many transformers without a process start each.

A sandbox child spends most of an execution starting Python and importing RestrictedPython
(see `bench/transformer_exec.py`); a pool worker pays that once. Each worker is the same child
as a one-off execution (`_sandbox_child.py` in worker mode): the same rlimits on memory,
files and processes, RestrictedPython, allow-listed modules, fresh globals on every call, and
a CPU allowance per call within a lifetime budget. This side keeps the wall-clock deadline and
the output cap per call, and a worker is killed and replaced after any failure or timeout,
after `max_calls` calls, and when its CPU budget runs low, so no call sees what a failing or
earlier call left behind beyond the allow-listed modules themselves. Workers are started by
the pool's own thread (`_Spawner`), so that they die with the process, not with a caller's
thread.

Use: `with SandboxPool(size=4) as pool: run_ingestion(code, payload, pool=pool)`. It is safe
to share between threads; a call waits for an idle worker when all `size` are busy.
"""

import json
import queue
import subprocess
import threading
import time
from typing import Any

from orbit_dagster.transformers.child_process import (
    ENVELOPE_BYTES,
    SandboxLimits,
    child_command,
    exit_error,
    kill_group,
    open_envelope,
    output_limit_error,
    pipes,
    pump,
    spawn,
    time_limit_error,
)
from orbit_dagster.transformers.errors import TransformerError

FRAME_HEADER_BYTES = 8
# A worker's lifetime CPU budget, in calls' worth of the per-call CPU limit.
CPU_BUDGET_CALLS = 20


class SandboxPool:
    """Up to `size` warm sandbox workers, all with `limits`, started as they are needed."""

    def __init__(
        self, size: int = 4, *, limits: SandboxLimits | None = None, max_calls: int = 1000
    ) -> None:
        if size < 1 or max_calls < 1:
            raise ValueError("SandboxPool size and max_calls must be at least 1")
        self.size = size
        self.limits = limits or SandboxLimits()
        self.max_calls = max_calls
        self._idle: queue.LifoQueue[_Worker | None] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._closed = False
        self._spawner = _Spawner()
        for _ in range(size):
            self._idle.put(None)  # a slot; its worker starts at first use

    def execute(self, request: bytes) -> Any:
        """The result of one request (as for a one-off child); TransformerError on failure."""
        worker = self._idle.get()
        try:
            if self._closed:
                raise TransformerError("the sandbox pool is closed")
            if worker is not None and worker.process.poll() is not None:
                worker.stop()  # it died while idle (e.g. the OOM killer): not this call's fault
                worker = None
            if worker is None:
                worker = _Worker(self.limits, self._spawner)
            result, retire = worker.call(request)
            if retire or worker.calls >= self.max_calls:
                worker.stop()
                worker = None
            return result
        except BaseException:
            if worker is not None:
                worker.stop()  # any failure: never reuse a worker that saw it
                worker = None
            raise
        finally:
            self._idle.put(worker)

    def close(self) -> None:
        """Stop every worker; calls after this fail."""
        with self._lock:
            self._closed = True
        for _ in range(self.size):
            worker = self._idle.get()
            if worker is not None:
                worker.stop()
        # Every slot is held here, so no call is starting a worker.
        self._spawner.stop()
        for _ in range(self.size):
            self._idle.put(None)

    def __enter__(self) -> "SandboxPool":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _Worker:
    """One sandbox child in worker mode and the framing of its requests and answers."""

    def __init__(self, limits: SandboxLimits, spawner: "_Spawner") -> None:
        self.limits = limits
        self.calls = 0
        budget = limits.cpu_seconds * CPU_BUDGET_CALLS
        self.process = spawner.spawn(child_command(limits, worker=True, cpu_budget=budget))

    def call(self, request: bytes) -> tuple[Any, bool]:
        """(result, whether the worker asks to retire); TransformerError on any failure."""
        self.calls += 1
        deadline = time.monotonic() + self.limits.wall_seconds
        answer, stderr = self._exchange(
            len(request).to_bytes(FRAME_HEADER_BYTES, "big") + request, deadline
        )
        if answer is None:
            raise self._death(stderr, deadline)
        try:
            envelope = json.loads(answer)
        except ValueError:
            raise TransformerError("a sandbox worker answered with malformed JSON") from None
        result = open_envelope(
            envelope, lambda: TransformerError("a sandbox worker answered without a result")
        )
        return result, bool(envelope.get("retire"))

    def _exchange(self, frame: bytes, deadline: float) -> tuple[bytes | None, bytes]:
        """Write the frame and read one answer frame. None: the worker's stdout closed first."""
        limit = self.limits.max_output_bytes + ENVELOPE_BYTES

        def complete(received: bytearray) -> bool:
            if len(received) < FRAME_HEADER_BYTES:
                return False
            expected = int.from_bytes(received[:FRAME_HEADER_BYTES], "big")
            if expected > limit:
                raise output_limit_error(self.limits)
            return len(received) >= FRAME_HEADER_BYTES + expected

        received, stderr, closed = pump(
            self.process,
            frame,
            deadline,
            self.limits,
            stdout_limit=FRAME_HEADER_BYTES + limit,
            close_stdin=False,
            complete=complete,
        )
        return (None if closed else received[FRAME_HEADER_BYTES:]), stderr

    def _death(self, stderr: bytes, deadline: float) -> TransformerError:
        try:
            returncode = self.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            return time_limit_error(self.limits)
        return exit_error(returncode, stderr, self.limits)

    def stop(self) -> None:
        """Kill the worker's process group and reap it."""
        kill_group(self.process)
        for stream in pipes(self.process):
            stream.close()


class _Spawner:
    """The one thread that starts a pool's workers; it lives until the pool is closed.

    A worker is killed by the kernel when the thread that started it ends (PR_SET_PDEATHSIG,
    see `die_with_parent` in `_sandbox_child.py`), and `execute` may be called from a short
    thread (a step's thread pool): a worker started there would die with it. So workers are
    started here. A thread of our own rather than a one-thread ThreadPoolExecutor: how long an
    executor keeps an idle thread is its business, and here that lifetime is the point.
    """

    def __init__(self) -> None:
        self._requests: queue.SimpleQueue[
            tuple[list[str], queue.SimpleQueue[subprocess.Popen | BaseException]] | None
        ] = queue.SimpleQueue()
        # A daemon: a pool left open must not keep the interpreter from exiting (its workers
        # then die with the process).
        self._thread = threading.Thread(target=self._serve, name="sandbox-spawner", daemon=True)
        self._thread.start()

    def spawn(self, command: list[str]) -> subprocess.Popen:
        """A worker started from this spawner's thread (`spawn`'s errors are raised here)."""
        answer: queue.SimpleQueue[subprocess.Popen | BaseException] = queue.SimpleQueue()
        self._requests.put((command, answer))
        outcome = answer.get()
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def stop(self) -> None:
        """End the thread (after its workers: they would die with it)."""
        self._requests.put(None)
        self._thread.join()

    def _serve(self) -> None:
        while (request := self._requests.get()) is not None:
            command, answer = request
            try:
                answer.put(spawn(command, "a sandbox worker"))
            except BaseException as exc:  # handed to the caller, raised in its thread
                answer.put(exc)
