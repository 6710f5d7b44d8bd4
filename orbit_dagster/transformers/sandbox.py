"""Running transformer code: in a separate, resource-limited process, never in the caller's.

The child (`_sandbox_child.py`) runs the code under RestrictedPython with allow-listed imports
and lowered rlimits (CPU, memory, files, processes). This side adds what a child cannot
enforce on itself: a wall-clock deadline, a cap on how much output is read, and killing the
child's whole process group when either is exceeded (`child_process.py`). The result is then
validated. A run goes to a fresh child, or to a warm worker of a `SandboxPool`.
"""

import json
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, overload

from orbit_dagster.transformers.child_process import (
    ENVELOPE_BYTES,
    SandboxLimits,
    child_command,
    exit_error,
    kill_group,
    open_envelope,
    pump,
    spawn,
    time_limit_error,
)
from orbit_dagster.transformers.errors import TransformerError
from orbit_dagster.transformers.pool import SandboxPool
from orbit_dagster.transformers.validation import (
    validate_chart_output,
    validate_ingestion_report,
)


@dataclass(frozen=True)
class IngestionResult:
    """Validated points, and the entries the transformer skipped by reason (e.g.
    `{"no usable date": 2}`), for the step log; empty when the code reports none."""

    points: list[dict[str, Any]]
    skipped: dict[str, int]


@overload
def run_transformer(
    code: str,
    data: Any,
    config: Mapping[str, Any] | None = None,
    *,
    kind: Literal["ingestion"],
    limits: SandboxLimits | None = None,
    pool: SandboxPool | None = None,
) -> list[dict[str, Any]]: ...


@overload
def run_transformer(
    code: str,
    data: Any,
    config: Mapping[str, Any] | None = None,
    *,
    kind: Literal["chart"],
    limits: SandboxLimits | None = None,
    pool: SandboxPool | None = None,
) -> dict[str, Any]: ...


@overload
def run_transformer(
    code: str,
    data: Any,
    config: Mapping[str, Any] | None = None,
    *,
    kind: str,
    limits: SandboxLimits | None = None,
    pool: SandboxPool | None = None,
) -> list[dict[str, Any]] | dict[str, Any]: ...


def run_transformer(
    code: str,
    data: Any,
    config: Mapping[str, Any] | None = None,
    *,
    kind: str,
    limits: SandboxLimits | None = None,
    pool: SandboxPool | None = None,
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
    pool: SandboxPool | None = None,
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
    pool: SandboxPool | None,
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


def _run_child(request: bytes, limits: SandboxLimits) -> Any:
    stdout, stderr, returncode = _exchange(child_command(limits), request, limits)
    return _read_envelope(stdout, stderr, returncode, limits)


def _exchange(
    command: list[str], request: bytes, limits: SandboxLimits
) -> tuple[bytes, bytes, int]:
    """Feed `request` to the child and collect its output, within the wall and output limits.

    Returns (stdout, the tail of stderr, exit code). Stdin, stdout and stderr are served
    together so that neither side can block the other on a full pipe.
    """
    deadline = time.monotonic() + limits.wall_seconds
    stdout_limit = limits.max_output_bytes + ENVELOPE_BYTES
    child = spawn(command, "the sandbox process")
    with child:
        try:
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


def _read_envelope(stdout: bytes, stderr: bytes, returncode: int, limits: SandboxLimits) -> Any:
    if returncode < 0:
        raise exit_error(returncode, stderr, limits)
    try:
        envelope = json.loads(stdout)
    except ValueError:
        raise exit_error(returncode, stderr, limits) from None
    return open_envelope(envelope, lambda: exit_error(returncode, stderr, limits))
