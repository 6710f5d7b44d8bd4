"""What reaches the terminal while a Dagster run executes in this process.

Dagster's console logger prints each ERROR record of a run as it happens: a failed step with
its whole stack, then one "not executing" line per step after it, over 100 lines for one
missing file. Every one of those records is in the run's event log as well (`orbit runs show
RUN_ID`, the UI), so the terminal gets the command's own one line instead, unless
`orbit --verbose` asks for them.
"""

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr
from typing import Any, TextIO

import click

# Dagster's console format, "%(asctime)s - %(name)s - %(levelname)s - %(message)s" with the
# logger named "dagster" (dagster._utils.log.default_format_string), possibly coloured.
DAGSTER_RECORD = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} - dagster - ")
COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def verbose() -> bool:
    """Whether the command runs under `orbit --verbose`."""
    context = click.get_current_context(silent=True)
    return bool(context and context.find_root().params.get("verbose"))


class _WithoutDagsterRecords:
    """stderr, less the writes that are one Dagster log record each.

    The console logger's handler (coloredlogs' StandardErrorHandler) looks `sys.stderr` up on
    every record and writes the whole record, stack included, in one call; so swapping
    `sys.stderr` for this filter drops exactly those records while warnings and anything
    else written to stderr still show.
    """

    def __init__(self, stream: TextIO):
        self._stream = stream

    def write(self, text: str) -> int:
        if DAGSTER_RECORD.match(COLOUR.sub("", text[:80])):
            return len(text)
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def dagster_records_hidden() -> Iterator[None]:
    """Inside: Dagster's run log records stay off the terminal (but for `--verbose`)."""
    if verbose():
        yield
        return
    with redirect_stderr(_WithoutDagsterRecords(sys.stderr)):  # type: ignore[arg-type]
        yield
