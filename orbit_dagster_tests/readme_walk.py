"""Running a README's shell blocks the way a reader types them: every block in document order
in ONE bash session (so `export` and `source` carry over), a marker line before each so the
output says which block printed what, and a verdict per block (its exit status, a traceback
or a Python warning printed, a session that never finished).
"""

import os
import re
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# markdown-it-py (a CommonMark parser; rich, which Dagster uses, depends on it) rather than a
# fence regex: it decides where a fence ends, what its info string is and which line it starts
# on by the same rules GitHub renders the README with (``` or ~~~, longer closing fences,
# indented fences), so the test runs the blocks a reader sees.
from markdown_it import MarkdownIt

MARKER = "@@@ readme-block"
TRACEBACK = re.compile(r"^Traceback \(most recent call last\):", re.MULTILINE)
# A line Python's `warnings` module prints: "path:line: SomeWarning: message".
WARNING = re.compile(r"^.*\b\w*Warning: .*$", re.MULTILINE)


@dataclass(frozen=True)
class Block:
    line: int  # the README line its opening fence is on (1-based)
    code: str

    @property
    def name(self) -> str:
        """Its first line: how the test names a block, in skip lists and in failures."""
        return (self.code.strip().splitlines() or [""])[0].strip()


def sh_blocks(markdown: str) -> list[Block]:
    """Every fenced block whose info string says `sh`, in document order."""
    return [
        Block(line=(token.map[0] + 1) if token.map else 0, code=token.content)
        for token in MarkdownIt("commonmark").parse(markdown)
        if token.type == "fence" and token.info.split()[:1] == ["sh"]
    ]


@dataclass(frozen=True)
class Walked:
    block: Block
    output: str  # stdout and stderr interleaved, as a terminal shows them
    status: int | None  # its exit status; None when the session ended before it finished
    timed_out: bool = False
    seconds: float | None = None  # how long it ran, when it finished

    def problems(self, allowed_warnings: re.Pattern[str] | None = None) -> list[str]:
        found = []
        if self.timed_out:
            found.append("did not finish before the time limit")
        elif self.status != 0:
            found.append(f"exited {self.status}")
        if TRACEBACK.search(self.output):
            found.append("printed a traceback")
        warnings = [
            line
            for line in WARNING.findall(self.output)
            if not (allowed_warnings and allowed_warnings.search(line))
        ]
        found += [f"printed a warning: {line.strip()}" for line in warnings]
        return found


def script(blocks: Sequence[Block]) -> str:
    """One bash script: each block after its marker, its status echoed after it (with bash's
    clock, so each block's duration is known).

    `set -e` does not stop at a failing command that is not the last of an `a && b` list, so
    each block's final status is checked explicitly as well.
    """
    parts = []
    for index, block in enumerate(blocks):
        parts.append(f'echo "{MARKER} {index} start $EPOCHREALTIME"\n{block.code.rstrip()}\n')
        parts.append(
            f'_status=$?; echo "{MARKER} {index} status $_status $EPOCHREALTIME"; '
            '[ "$_status" -eq 0 ] || exit "$_status"\n'
        )
    return "".join(parts)


def walk(
    blocks: Sequence[Block],
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    workdir: Path,
) -> list[Walked]:
    """Run `blocks` with `bash -euo pipefail` in `cwd`; one `Walked` per block that started.

    The script and its output live in `workdir` (outside `cwd`, which must stay as the blocks
    leave it). Output goes to a file, not a pipe: a block that leaves a server running in the
    background cannot keep the test waiting for the pipe to close. The session runs in its own
    process group, killed at the end, so nothing a block started outlives the walk.
    """
    script_path = workdir / "walk.sh"
    script_path.write_text(script(blocks))
    output_path = workdir / "walk.out"
    with output_path.open("wb") as output:
        session = subprocess.Popen(
            ["bash", "-euo", "pipefail", str(script_path)],
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            exit_status: int | None = session.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            exit_status = None
        finally:
            try:
                os.killpg(session.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass  # the session and everything it started have ended
            session.wait()
    return _verdicts(blocks, output_path.read_text(errors="replace"), exit_status)


def _verdicts(blocks: Sequence[Block], text: str, exit_status: int | None) -> list[Walked]:
    """Split the session's output at the markers into one `Walked` per started block."""
    # Not anchored at a line start: a block whose output has no final newline runs into it.
    pieces = re.split(rf"{MARKER} (\d+) (start|status -?\d+) ([\d.]+)\n", text)
    walked: list[Walked] = []
    outputs: dict[int, str] = {}
    started: dict[int, float] = {}
    ended: dict[int, tuple[int, float]] = {}
    marks = zip(pieces[1::4], pieces[2::4], pieces[3::4], pieces[4::4], strict=True)
    for index, what, clock, after in marks:
        if what == "start":
            outputs[int(index)], started[int(index)] = after, float(clock)
        else:
            ended[int(index)] = (int(what.split()[1]), float(clock))
    for index, output in sorted(outputs.items()):
        if index in ended:
            status, clock = ended[index]
            walked.append(Walked(blocks[index], output, status, seconds=clock - started[index]))
        else:  # the block the session stopped in: set -e's exit, or the time limit
            walked.append(Walked(blocks[index], output, exit_status, timed_out=exit_status is None))
    return walked
