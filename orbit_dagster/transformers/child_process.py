"""A sandbox child process, from the parent's side: its limits, its command line, starting it,
talking to it, killing it, and turning how it ended into a clear `TransformerError`.

One module for both ways a transformer runs: a fresh child per execution (`sandbox.py`) and a
warm pool worker (`pool.py`); both start the same `_sandbox_child.py` through `spawn`.
"""

import functools
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import IO, Any

from orbit_dagster.transformers.errors import TransformerError

CHILD_SCRIPT = Path(__file__).with_name("_sandbox_child.py")
# Room on stdout for the JSON envelope around a result of max_output_bytes.
ENVELOPE_BYTES = 64 * 1024
# The end of the child's stderr, to explain a crash; earlier output is dropped, not buffered.
STDERR_TAIL_BYTES = 16 * 1024
CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class SandboxLimits:
    """What one transformer run may use. Output is the JSON the child sends back."""

    wall_seconds: float = 10.0
    cpu_seconds: int = 5
    memory_mb: int = 512
    # A point is 60 to 100 bytes of JSON, so on big outputs this cap binds before max_points.
    max_output_bytes: int = 50_000_000
    # 500k points with dimensions measured at ~6.8 s and ~510 MB: the most the other defaults
    # let through reliably (1M points overran the 512 MB child).
    max_points: int = 500_000

    def __post_init__(self) -> None:
        for name in ("wall_seconds", "cpu_seconds", "memory_mb", "max_output_bytes", "max_points"):
            if not getattr(self, name) > 0:
                raise ValueError(f"SandboxLimits.{name} must be positive")
        if not isinstance(self.cpu_seconds, int):
            raise ValueError("SandboxLimits.cpu_seconds must be a whole number (setrlimit)")


def child_command(limits: SandboxLimits, **settings: Any) -> list[str]:
    """The command line of a sandbox child with these limits (`settings`: e.g. worker mode)."""
    settings = {
        "path": _restricted_python_path(),
        "cpu_seconds": limits.cpu_seconds,
        "memory_mb": limits.memory_mb,
        "max_output_bytes": limits.max_output_bytes,
        "max_points": limits.max_points,
        # The child dies with this process (`die_with_parent` in the child).
        "parent_pid": os.getpid(),
        **settings,
    }
    # -I: no PYTHON* variables, user site or script directory on sys.path; -S: no site-packages
    # or .pth hooks. The child gets RestrictedPython's directory explicitly instead, which works
    # whether or not orbit_dagster is installed.
    return [sys.executable, "-I", "-S", str(CHILD_SCRIPT), json.dumps(settings)]


@functools.cache
def _restricted_python_path() -> list[str]:
    spec = find_spec("RestrictedPython")
    if spec is None or spec.origin is None:
        raise TransformerError("RestrictedPython is not installed; transformers cannot run")
    return [str(Path(spec.origin).parent.parent)]


def spawn(command: list[str], what: str) -> subprocess.Popen:
    """Start a sandbox child with pipes on all three streams, none of them blocking.

    No environment, `/` as its directory, and its own process group (`start_new_session`),
    so that `kill_group` stops everything it might have started. `what` names it in the error
    when it cannot start. The child dies when the calling *thread* ends (`die_with_parent` in
    the child), so call this from a thread that outlives the child.
    """
    try:
        child = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            close_fds=True,
            env={},
            cwd="/",
            start_new_session=True,
        )
    except OSError as exc:
        raise TransformerError(f"could not start {what}: {exc}") from None
    for stream in pipes(child):
        os.set_blocking(stream.fileno(), False)
    return child


def pipes(child: subprocess.Popen) -> tuple[IO[bytes], IO[bytes], IO[bytes]]:
    """stdin, stdout and stderr of a child `spawn` started (it always opens all three)."""
    assert child.stdin and child.stdout and child.stderr
    return child.stdin, child.stdout, child.stderr


def pump(
    process: subprocess.Popen,
    request: bytes,
    deadline: float,
    limits: SandboxLimits,
    *,
    stdout_limit: int,
    close_stdin: bool,
    complete: Callable[[bytearray], bool] | None = None,
) -> tuple[bytes, bytes, bool]:
    """Write `request` to the process's stdin while draining its stdout and stderr.

    One loop serves both ways of talking to a sandbox: a fresh child (`close_stdin`, read
    until both outputs close) and a pool worker (stdin stays open for the next call; stop
    once `complete(stdout so far)` holds). Returns (stdout, the tail of stderr, whether
    stdout closed before `complete` held). Raises on the deadline or past `stdout_limit`.
    """
    received, stderr = bytearray(), b""
    pending = memoryview(request)
    stdin_pipe, stdout_pipe, stderr_pipe = pipes(process)
    with selectors.DefaultSelector() as selector:
        selector.register(stdin_pipe, selectors.EVENT_WRITE)
        selector.register(stdout_pipe, selectors.EVENT_READ)
        selector.register(stderr_pipe, selectors.EVENT_READ)
        while selector.get_map() and not (complete is not None and complete(received)):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise time_limit_error(limits)
            for key, _ in selector.select(remaining):
                if key.fileobj is stdin_pipe:
                    try:
                        pending = pending[os.write(key.fd, pending[:CHUNK_BYTES]) :]
                    except BlockingIOError:
                        continue
                    except BrokenPipeError:
                        # The process stopped reading (it failed early); its output says why.
                        pending = pending[:0]
                    if not pending:
                        selector.unregister(stdin_pipe)
                        if close_stdin:
                            stdin_pipe.close()
                    continue
                data = os.read(key.fd, CHUNK_BYTES)
                if key.fileobj is stderr_pipe:
                    if not data:
                        selector.unregister(stderr_pipe)
                    stderr = (stderr + data)[-STDERR_TAIL_BYTES:]
                elif not data:
                    if complete is not None:
                        return bytes(received), stderr, True
                    selector.unregister(stdout_pipe)
                else:
                    received += data
                    if len(received) > stdout_limit:
                        raise output_limit_error(limits)
    return bytes(received), stderr, False


def kill_group(child: subprocess.Popen) -> None:
    """Kill the process and everything it started (its own process group), then reap it."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    child.wait()


def open_envelope(envelope: Any, malformed: Callable[[], TransformerError]) -> Any:
    """The result in a child's answer; its error as TransformerError; `malformed()` if neither."""
    if not isinstance(envelope, dict) or "ok" not in envelope:
        raise malformed()
    if not envelope["ok"]:
        raise TransformerError(envelope["error"])
    return envelope["result"]


def exit_error(returncode: int, stderr: bytes, limits: SandboxLimits) -> TransformerError:
    """Why a child ended without a usable answer: a limit's signal, or a crash."""
    if returncode < 0:
        return _signal_error(-returncode, stderr, limits)
    return _crash_error(f"exit code {returncode}", stderr, limits)


def _signal_error(number: int, stderr: bytes, limits: SandboxLimits) -> TransformerError:
    if number in (signal.SIGXCPU, signal.SIGPROF):  # the rlimit, or a pool worker's timer
        return TransformerError(f"transformer exceeded the {limits.cpu_seconds} s CPU time limit")
    if number == signal.SIGKILL:
        # Not our kill (that is reported as a time or output limit): the kernel's, which on a
        # process that cannot fork means memory (the OOM killer) or the hard CPU limit.
        return TransformerError(
            "transformer process was killed, most likely for exceeding the "
            f"{limits.memory_mb} MB memory limit"
        )
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    return _crash_error(name, stderr, limits)


def _crash_error(how: str, stderr: bytes, limits: SandboxLimits) -> TransformerError:
    text = stderr.decode(errors="replace")
    if "MemoryError" in text or "Cannot allocate memory" in text:
        return TransformerError(f"transformer exceeded the {limits.memory_mb} MB memory limit")
    last_lines = " | ".join(text.strip().splitlines()[-3:])[-1000:]
    return TransformerError(
        f"transformer process failed ({how}) without a result"
        + (f": {last_lines}" if last_lines else "")
    )


def time_limit_error(limits: SandboxLimits) -> TransformerError:
    return TransformerError(f"transformer exceeded the {limits.wall_seconds:g} s time limit")


def output_limit_error(limits: SandboxLimits) -> TransformerError:
    return TransformerError(
        f"transformer output exceeded the {limits.max_output_bytes:,}-byte limit"
    )
