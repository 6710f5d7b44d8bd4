"""The warm pool: workers are reused, every call still starts from fresh globals and a fresh
decimal context with its own CPU allowance, and a worker is replaced after any failure, after
max_calls, and when closed. (The hostile corpus runs on the pool too: test_sandbox.py.)"""

import os
import signal
import threading
import time

import pytest

from orbit_dagster.transformers import (
    SandboxLimits,
    SandboxPool,
    TransformerError,
    run_ingestion,
    run_transformer,
)
from orbit_dagster_tests.transformers.processes import alive, sandbox_children

LIMITS = SandboxLimits(wall_seconds=3, cpu_seconds=1, memory_mb=256)
POINT = "{'date': '2026-10-01', 'value': %s}"


def value_of(code: str, pool: SandboxPool) -> float:
    return run_transformer(code, None, kind="ingestion", pool=pool)[0]["value"]


@pytest.fixture
def pool():
    with SandboxPool(size=1, limits=LIMITS) as pool:
        yield pool
    assert sandbox_children() == []


def test_one_worker_serves_many_calls(pool):
    code = f"def transform(payload, config):\n    return [{POINT % 'payload'}]\n"
    assert [
        run_transformer(code, n, kind="ingestion", pool=pool)[0]["value"] for n in range(5)
    ] == [
        0.0,
        1.0,
        2.0,
        3.0,
        4.0,
    ]
    assert len(sandbox_children()) == 1


def test_every_call_starts_from_fresh_globals_and_decimal_context(pool):
    first = (
        "import decimal\nSEEN = []\n"
        "decimal.setcontext(decimal.Context(prec=3))\n"
        f"def transform(payload, config):\n    SEEN.append(1)\n    return [{POINT % 'len(SEEN)'}]\n"
    )
    second = (
        "import decimal\n"
        "def transform(payload, config):\n"
        "    digits = len(str(decimal.Decimal(1) / decimal.Decimal(3))) - 2\n"
        f"    return [{POINT % 'digits'}]\n"
    )
    assert value_of(first, pool) == 1.0
    [worker] = sandbox_children()
    assert value_of(first, pool) == 1.0  # SEEN is new on every call
    assert value_of(second, pool) == 28.0  # decimal's default precision, not 3
    assert sandbox_children() == [worker]


def test_a_failure_replaces_the_worker(pool):
    ok = f"def transform(payload, config):\n    return [{POINT % 1}]\n"
    value_of(ok, pool)
    [before] = sandbox_children()
    with pytest.raises(TransformerError, match="import of 'os' is not allowed"):
        value_of("import os\n" + ok, pool)
    assert sandbox_children() == []
    assert value_of(ok, pool) == 1.0
    [after] = sandbox_children()
    assert after != before


def test_cpu_time_is_limited_per_call_not_per_worker(pool):
    # Calls of ~0.4 s CPU each: together over the 1 s limit, each one within it.
    busy = (
        "def transform(payload, config):\n"
        "    total = 0\n"
        "    for n in range(payload):\n"
        "        total += n\n"
        f"    return [{POINT % 1}]\n"
    )
    started = time.monotonic()
    for _ in range(4):
        run_ingestion(busy, 5_000_000, pool=pool)
    assert time.monotonic() - started > LIMITS.cpu_seconds  # the premise: more than 1 s in all
    assert len(sandbox_children()) == 1
    with pytest.raises(TransformerError, match="exceeded the 1 s CPU time limit"):
        run_ingestion(busy, 300_000_000, pool=pool)


def test_workers_retire_after_max_calls():
    ok = f"def transform(payload, config):\n    return [{POINT % 1}]\n"
    with SandboxPool(size=1, limits=LIMITS, max_calls=2) as pool:
        value_of(ok, pool)
        [first] = sandbox_children()
        value_of(ok, pool)
        assert sandbox_children() == []  # retired after its second call
        value_of(ok, pool)
        assert sandbox_children() not in ([], [first])


def test_threads_share_a_pool_and_a_closed_pool_refuses_work():
    code = f"def transform(payload, config):\n    return [{POINT % 'payload'}]\n"
    results = {}
    with SandboxPool(size=2, limits=LIMITS) as pool:

        def call(n: int) -> None:
            results[n] = run_transformer(code, n, kind="ingestion", pool=pool)[0]["value"]

        threads = [threading.Thread(target=call, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(sandbox_children()) <= 2
    assert results == {n: float(n) for n in range(8)}
    assert sandbox_children() == []
    with pytest.raises(TransformerError, match="the sandbox pool is closed"):
        value_of(code, pool)


def test_pooled_runs_use_the_pools_limits():
    with SandboxPool(size=1, limits=LIMITS) as pool, pytest.raises(ValueError, match="limits"):
        run_ingestion("", [], limits=SandboxLimits(), pool=pool)


def test_a_worker_that_died_while_idle_is_replaced_quietly(pool):
    ok = f"def transform(payload, config):\n    return [{POINT % 1}]\n"
    value_of(ok, pool)
    [worker] = sandbox_children()
    os.kill(worker, signal.SIGKILL)
    deadline = time.monotonic() + 2
    while alive(worker):
        assert time.monotonic() < deadline  # dead (a zombie until the pool reaps it)
        time.sleep(0.01)
    assert value_of(ok, pool) == 1.0
    assert sandbox_children() not in ([], [worker])
