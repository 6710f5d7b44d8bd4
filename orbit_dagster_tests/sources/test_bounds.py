"""Every HTTP fetch is bounded, against hostile servers on 127.0.0.1: a total deadline per
request and per fetch however slowly a server drips, a body size cap enforced while the body
streams in, and options that cannot be set out of range when a metric is added.
"""

import json
import re
import subprocess
import sys
import textwrap
import time

import pytest

from orbit_dagster.sources import SourceError, fetch
from orbit_dagster.sources.templates import validate_config
from orbit_dagster_tests.sources.hostile_servers import (
    drip_body,
    drip_headers,
    hostile_server,
    oversized,
    silent,
)

MB = 1024 * 1024


def fetch_from(url: str, **config: str):
    return fetch("http-json", {"url": f"{url}/x", "backoff": "0.01", **config})


def timed_failure(url: str, **config: str) -> tuple[float, str]:
    started = time.monotonic()
    with pytest.raises(SourceError) as caught:
        fetch_from(url, **config)
    return time.monotonic() - started, str(caught.value)


@pytest.mark.parametrize("handler", [drip_body(), drip_headers()], ids=["body", "headers"])
def test_a_dripping_server_is_cut_at_the_request_deadline(handler):
    # One byte every 0.25 s resets a per-read timeout forever; the deadline is per request.
    with hostile_server(handler) as server:
        elapsed, message = timed_failure(server.url, timeout="1", retries="0")
    assert re.search(r"GET .*/x timed out after 1 s$", message)
    assert 1.0 <= elapsed < 2.0, elapsed  # margin for a loaded machine; unbounded: 100 s
    assert server.sent >= 2  # it did drip: a per-read timeout of 1 s never fired


def test_retries_against_a_dripping_server_stop_at_the_fetch_deadline():
    with hostile_server(drip_body()) as server:
        elapsed, message = timed_failure(server.url, timeout="1", retries="10", fetch_timeout="2.5")
    assert message.endswith("(fetch_timeout 2.5 s reached) (gave up after 3 attempts)")
    assert elapsed < 3.5, elapsed
    assert server.connections <= 3


def test_a_server_that_never_answers_is_bounded_by_the_fetch_deadline():
    with hostile_server(silent) as server:
        elapsed, message = timed_failure(
            server.url, timeout="0.5", retries="10", fetch_timeout="1.5"
        )
    assert "timed out after" in message and "gave up after" in message
    assert elapsed < 2.5, elapsed


def test_a_body_over_the_cap_is_refused_while_it_streams():
    # 50 MB, ended by closing the connection: no length to refuse it by in advance.
    with hostile_server(oversized(50 * MB)) as server:
        elapsed, message = timed_failure(server.url, max_bytes=str(MB), retries="0")
    match = re.search(r"larger than the 1,048,576-byte limit \(config max_bytes\); "
                      r"stopped after reading ([\d,]+) bytes$", message)  # fmt: skip
    assert match, message
    read = int(match.group(1).replace(",", ""))
    assert MB < read <= MB + 128 * 1024
    # What the server got into the kernel's buffers before the client hung up: far from 50 MB.
    assert server.sent < 16 * MB, server.sent
    print(f"\nsize cap 1 MiB: read {read:,} bytes; server sent {server.sent:,}; {elapsed:.2f} s")


def test_a_declared_length_over_the_cap_is_refused_before_reading():
    with hostile_server(oversized(50 * MB, declare=True)) as server:
        _, message = timed_failure(server.url, max_bytes=str(MB), retries="0")
    assert message.endswith("limit (config max_bytes); it declares 52,428,800 bytes")


def test_the_default_cap_keeps_a_50_mb_body_out_of_memory():
    """Peak RSS of a fresh process fetching 50 MB with default options grows by about the
    20 MiB cap, not by the body (it grew by 2 GB before the cap)."""
    with hostile_server(oversized(50 * MB)) as server:
        script = textwrap.dedent(f"""
            import json, re
            from orbit_dagster.sources import SourceError, fetch
            def peak_kb():  # VmHWM: the process's peak resident set size
                return int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read())[1])
            before = peak_kb()
            try:
                fetch("http-json", {{"url": "{server.url}/x", "retries": "0"}})
            except SourceError as error:
                message = str(error)
            print(json.dumps({{"grew_kb": peak_kb() - before, "message": message}}))
        """)
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
        )
    result = json.loads(done.stdout)
    assert "larger than the 20,971,520-byte limit" in result["message"]
    assert result["grew_kb"] < 40 * 1024, result
    print(f"\n50 MB body, default cap: peak RSS grew by {result['grew_kb'] / 1024:.1f} MiB")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("retries", "1000000", "config retries must be at most 10, got '1000000'"),
        ("retries", "nan", "config retries must be a finite number"),
        ("timeout", "inf", "config timeout must be a finite number"),
        ("timeout", "86400", "config timeout must be at most 600"),
        ("fetch_timeout", "0", "config fetch_timeout must be at least 0.01"),
        ("max_pages", "1000000", "config max_pages must be at most 1,000"),
        ("max_bytes", str(10**12), "config max_bytes must be at most 1,073,741,824"),
        ("max_bytes", "0", "config max_bytes must be at least 1"),
    ],
)
def test_unbounded_options_are_refused_when_a_metric_is_added(key, value, message):
    with pytest.raises(SourceError, match=re.escape(message)):
        validate_config("http-json", {"url": "http://127.0.0.1:9/x", key: value})
