"""What one sandboxed transformer execution costs, against a bare Python process start and
a bare warm worker round trip, and what a warm pool of sandbox workers saves.

Run: `.venv/bin/python -m bench.transformer_exec [--runs 50] [--executions 1000]`.
Times `run_ingestion` of the built-in generator's code on a realistic payload (the bundled
GitHub commits sample, 30 commits) with a new child per execution, and in the same run
`python -I -S -c pass`: the floor of any design that starts a process per execution. A warm
pool worker's execution is set beside a bare warm round trip: the same request frame sent to
a plain child that reads it and answers a small frame (no sandbox, no JSON, no code): the floor
of any design that keeps a worker process (target: a warm execution within 2 ms). Then
`--executions` executions spawned one by one vs through a `SandboxPool` of 4 workers.
"""

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import click

from orbit_dagster.sources import sample_path
from orbit_dagster.transformers import SandboxPool, generate_ingestion_code, run_ingestion


def per_call(function, runs: int) -> float:
    """Median seconds of one call, after one warm-up call."""
    function()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def total(function, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        function()
    return time.perf_counter() - started


# A plain worker: read an 8-byte length and that many bytes, answer an 8-byte frame, forever.
ECHO_WORKER = """
import os
def read(n):
    data = b""
    while len(data) < n:
        chunk = os.read(0, n - len(data))
        if not chunk:
            raise SystemExit
        data += chunk
    return data
while True:
    read(int.from_bytes(read(8), "big"))
    os.write(1, (2).to_bytes(8, "big") + b"[]")
"""


def echo_round_trip(frame_bytes: int) -> tuple[Callable[[], None], subprocess.Popen]:
    """A call sending a frame of `frame_bytes` to a plain warm child and reading its answer."""
    child = subprocess.Popen(
        [sys.executable, "-I", "-S", "-c", ECHO_WORKER], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )  # fmt: skip
    assert child.stdin and child.stdout
    stdin, stdout = child.stdin.fileno(), child.stdout.fileno()
    frame = frame_bytes.to_bytes(8, "big") + b"x" * frame_bytes

    def call() -> None:
        view = memoryview(frame)
        while view:
            view = view[os.write(stdin, view) :]
        answer = b""
        while len(answer) < 10:
            answer += os.read(stdout, 10 - len(answer))

    return call, child


@click.command()
@click.option("--runs", default=50, show_default=True, help="Timed calls for the medians.")
@click.option("--executions", default=1000, show_default=True, help="Executions per batch.")
def main(runs: int, executions: int) -> None:
    payload = json.loads(sample_path("github_commits").read_text())
    code = generate_ingestion_code(payload, template="file", name="Commits")
    points = len(run_ingestion(code, payload).points)
    click.echo(f"payload: {len(payload)} commits -> {points} points")
    bare = per_call(lambda: subprocess.run([sys.executable, "-I", "-S", "-c", "pass"]), runs)
    spawned = per_call(lambda: run_ingestion(code, payload), runs)
    request_bytes = len(json.dumps({"kind": "ingestion", "code": code, "data": payload}))
    echo, echo_child = echo_round_trip(request_bytes)
    with SandboxPool(size=4) as pool:
        pooled = per_call(lambda: run_ingestion(code, payload, pool=pool), runs)
        round_trip = per_call(echo, runs)
        pooled_batch = total(lambda: run_ingestion(code, payload, pool=pool), executions)
    echo_child.stdin.close()  # type: ignore[union-attr]
    echo_child.wait()
    spawned_batch = total(lambda: run_ingestion(code, payload), executions)
    click.echo(f"median of {runs} runs, one execution:")
    click.echo(f"  bare spawn  python -I -S -c pass : {bare * 1000:8.2f} ms")
    click.echo(f"  sandboxed, new child each       : {spawned * 1000:8.2f} ms")
    click.echo(f"  sandboxed, warm pool worker     : {pooled * 1000:8.2f} ms  (target <= 2 ms)")
    click.echo(f"  bare warm round trip, {request_bytes:,} B: {round_trip * 1000:8.2f} ms")
    click.echo(f"  ratio warm pool / round trip    : {pooled / round_trip:8.2f}x")
    click.echo(f"  ratio new child / bare spawn    : {spawned / bare:8.2f}x")
    click.echo(f"  ratio pooled / bare spawn       : {pooled / bare:8.2f}x")
    click.echo(f"{executions:,} executions:")
    click.echo(f"  spawned one by one              : {spawned_batch:8.2f} s")
    click.echo(f"  through SandboxPool(size=4)     : {pooled_batch:8.2f} s")
    click.echo(f"  speed-up                        : {spawned_batch / pooled_batch:8.2f}x")


if __name__ == "__main__":
    main()
