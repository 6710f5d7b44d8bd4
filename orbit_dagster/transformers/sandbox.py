"""Running transformer code: in a separate, resource-limited process, never in the caller's.

The child (`_sandbox_child.py`) runs the code under RestrictedPython with allow-listed imports
and lowered rlimits (CPU, memory, files, processes). This side adds what a child cannot
enforce on itself: a wall-clock deadline, a cap on how much output is read, and killing the
child's whole process group when either is exceeded. The result is then validated.
"""

import functools
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from orbit_dagster.transformers.errors import TransformerError
from orbit_dagster.transformers.validation import (
    validate_chart_output,
    validate_ingestion_report,
)

if TYPE_CHECKING:
    # Only a type here: pool.py builds on this module.
    from orbit_dagster.transformers.pool import SandboxPool

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


@dataclass(frozen=True)
class IngestionResult:
    """Validated points, and the entries the transformer skipped by reason (e.g.
    `{"no usable date": 2}`), for the step log; empty when the code reports none."""

    points: list[dict[str, Any]]
    skipped: dict[str, int]


def run_transformer(
    code: str,
    data: Any,
    config: Mapping[str, Any] | None = None,
    *,
    kind: Literal["ingestion", "chart"],
    limits: SandboxLimits | None = None,
    pool: "SandboxPool | None" = None,
) -> list[dict[str, Any]] | dict[str, Any]:
    """Run `transform(data, config)` from `code` in the sandbox; return its validated output.

    kind="ingestion": a list of points `{"date": "YYYY-MM-DDTHH:MM:SSZ", "value": float,
    "dimensions": dict[str, str] | None}` (`run_ingestion` also gives the skipped counts);
    kind="chart": a Vega-Lite spec. It runs in a new child process, or in a warm worker of
    `pool` (whose limits then apply). Every failure of the code, of the limits or of
    validation raises TransformerError.
    """
    if kind == "ingestion":
        return run_ingestion(code, data, config, limits=limits, pool=pool).points
    if kind != "chart":
        raise ValueError(f"kind must be 'ingestion' or 'chart', not {kind!r}")
    result, limits = _execute("chart", code, data, config, limits, pool)
    return validate_chart_output(result, max_bytes=limits.max_output_bytes)


def run_ingestion(
    code: str,
    payload: Any,
    config: Mapping[str, Any] | None = None,
    *,
    limits: SandboxLimits | None = None,
    pool: "SandboxPool | None" = None,
) -> IngestionResult:
    """Run an ingestion transformer in the sandbox: its validated points and skipped counts."""
    result, limits = _execute("ingestion", code, payload, config, limits, pool)
    points, skipped = validate_ingestion_report(result, max_points=limits.max_points)
    return IngestionResult(points, skipped)


def _execute(
    kind: str,
    code: str,
    data: Any,
    config: Mapping[str, Any] | None,
    limits: SandboxLimits | None,
    pool: "SandboxPool | None",
) -> tuple[Any, SandboxLimits]:
    """The child's raw result, and the limits it ran under."""
    request = _request(kind, code, data, config)
    if pool is None:
        limits = limits or SandboxLimits()
        return _run_child(request, limits), limits
    if limits is not None and limits != pool.limits:
        raise ValueError("a pooled run uses the pool's limits; give limits to SandboxPool")
    return pool.execute(request), pool.limits


def _request(kind: str, code: str, data: Any, config: Mapping[str, Any] | None) -> bytes:
    try:
        return json.dumps(
            {"kind": kind, "code": code, "data": data, "config": dict(config or {})}
        ).encode()
    except (TypeError, ValueError) as exc:
        raise TransformerError(f"the transformer's input is not JSON-serialisable: {exc}") from None


def child_command(limits: SandboxLimits, **settings: Any) -> list[str]:
    """The command line of a sandbox child with these limits (`settings`: e.g. worker mode)."""
    settings = {
        "path": _restricted_python_path(),
        "cpu_seconds": limits.cpu_seconds,
        "memory_mb": limits.memory_mb,
        "max_output_bytes": limits.max_output_bytes,
        "max_points": limits.max_points,
        **settings,
    }
    # -I: no PYTHON* variables, user site or script directory on sys.path; -S: no site-packages
    # or .pth hooks. The child gets RestrictedPython's directory explicitly instead, which works
    # whether or not orbit_dagster is installed.
    return [sys.executable, "-I", "-S", str(CHILD_SCRIPT), json.dumps(settings)]


def _run_child(request: bytes, limits: SandboxLimits) -> Any:
    stdout, stderr, returncode = _exchange(child_command(limits), request, limits)
    return _read_envelope(stdout, stderr, returncode, limits)


@functools.cache
def _restricted_python_path() -> list[str]:
    spec = find_spec("RestrictedPython")
    if spec is None or spec.origin is None:
        raise TransformerError("RestrictedPython is not installed; transformers cannot run")
    return [str(Path(spec.origin).parent.parent)]


def _exchange(
    command: list[str], request: bytes, limits: SandboxLimits
) -> tuple[bytes, bytes, int]:
    """Feed `request` to the child and collect its output, within the wall and output limits.

    Returns (stdout, the tail of stderr, exit code). Stdin, stdout and stderr are served
    together so that neither side can block the other on a full pipe.
    """
    deadline = time.monotonic() + limits.wall_seconds
    stdout_limit = limits.max_output_bytes + ENVELOPE_BYTES
    try:
        child = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            close_fds=True,
            env={},
            cwd="/",
            # Its own process group, so a timeout kills everything it might have started.
            start_new_session=True,
        )
    except OSError as exc:
        raise TransformerError(f"could not start the sandbox process: {exc}") from None
    with child:
        try:
            os.set_blocking(child.stdin.fileno(), False)
            stdout, stderr, _ = pump(
                child, request, deadline, limits, stdout_limit=stdout_limit, close_stdin=True
            )
            try:
                returncode = child.wait(timeout=max(deadline - time.monotonic(), 0))
            except subprocess.TimeoutExpired:
                raise time_limit_error(limits) from None
        finally:
            if child.returncode is None:
                kill_group(child)
    return stdout, stderr, returncode


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
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdin, selectors.EVENT_WRITE)
        selector.register(process.stdout, selectors.EVENT_READ)
        selector.register(process.stderr, selectors.EVENT_READ)
        while selector.get_map() and not (complete is not None and complete(received)):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise time_limit_error(limits)
            for key, _ in selector.select(remaining):
                if key.fileobj is process.stdin:
                    try:
                        pending = pending[os.write(key.fd, pending[:CHUNK_BYTES]) :]
                    except BlockingIOError:
                        continue
                    except BrokenPipeError:
                        # The process stopped reading (it failed early); its output says why.
                        pending = pending[:0]
                    if not pending:
                        selector.unregister(process.stdin)
                        if close_stdin:
                            process.stdin.close()
                    continue
                data = os.read(key.fd, CHUNK_BYTES)
                if key.fileobj is process.stderr:
                    if not data:
                        selector.unregister(process.stderr)
                    stderr = (stderr + data)[-STDERR_TAIL_BYTES:]
                elif not data:
                    if complete is not None:
                        return bytes(received), stderr, True
                    selector.unregister(process.stdout)
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


def _read_envelope(stdout: bytes, stderr: bytes, returncode: int, limits: SandboxLimits) -> Any:
    if returncode < 0:
        raise exit_error(returncode, stderr, limits)
    try:
        envelope = json.loads(stdout)
    except ValueError:
        raise exit_error(returncode, stderr, limits) from None
    return open_envelope(envelope, lambda: exit_error(returncode, stderr, limits))


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
