"""How the `orbit` command fails: one line on stderr, at most one `hint:` line after it, and
an exit code that says which kind of failure it was. The stack is printed only with
`orbit --verbose`, or for an error nobody expected (a bug), where it is what one needs.

`OrbitGroup` is the one place an exception becomes that line: commands raise `OrbitFailure`
(through `output.fail`) or let our own errors (`OWN_ERRORS`: source, generation, validation,
store) propagate, and it maps them here.
"""

import os
import signal
import sys
import traceback
from enum import IntEnum
from typing import IO, Any

import click

from orbit_dagster.refresh.errors import OWN_ERRORS
from orbit_dagster.store import MetricNotFoundError, Store
from orbit_dagster.store import step_log as s
from orbit_dagster.store.records import StoreUnavailableError


class ExitCode(IntEnum):
    """What a non-zero exit means; `orbit --help` prints `EXIT_CODES` from this table."""

    FAILED = 1  # a run ran and failed: a refresh, a document, a resumed run
    USAGE = 2  # click's: an unknown option, a missing argument, a malformed value
    REFUSED = 3  # input or configuration refused before anything ran
    STORE_UNAVAILABLE = 4  # the Orbit store's database cannot be reached
    UNEXPECTED = 5  # a bug: the stack is printed with the line
    BROKEN_PIPE = 128 + signal.SIGPIPE  # the reader of stdout went away, as a shell reports it


EXIT_CODES = {
    0: "done",
    ExitCode.FAILED: "a refresh, a document or a resumed run failed (its run id is printed)",
    ExitCode.USAGE: "usage: an unknown option, a missing argument, a malformed value",
    ExitCode.REFUSED: "refused before anything ran: unknown id, bad config, a secret in config",
    ExitCode.STORE_UNAVAILABLE: "the Orbit store cannot be reached (ORBIT_DATABASE_URL)",
    ExitCode.UNEXPECTED: "an unexpected error: a bug, printed with its stack",
    ExitCode.BROKEN_PIPE: "the output's reader stopped reading (`orbit ... | head`)",
}

STORE_HINT = "is the database server running, and is ORBIT_DATABASE_URL its address?"
NOT_FOUND_HINT = "`orbit metrics list` shows the registered metrics"
# Where to look next when a refresh failed in this step (the refresh step table's names).
STEP_HINTS = {
    "fetching-api-data": "`orbit runs show {run_id}` prints the request log of the fetch",
    "generating-ingestion-transformer": (
        "`orbit transformer preview {metric_id}` shows the series the generator can choose"
    ),
    "executing-ingestion-transformer": (
        "`orbit transformer show {metric_id}` prints the code; `orbit transformer run` tries it"
    ),
    "executing-chart-transformer": (
        "`orbit transformer show {metric_id} --kind chart` prints the code"
    ),
}
RUN_HINT = "`orbit runs show {run_id}` lists the run's steps and their errors"


class OrbitFailure(click.ClickException):
    """An expected failure: `line`, then `hint: ...` when there is one, each kept as one
    printable line (`printable`) from the start, so the terminal and `--json` show the same."""

    def __init__(self, line: str, *, code: ExitCode = ExitCode.REFUSED, hint: str | None = None):
        super().__init__(printable(line))
        self.code = code
        self.hint = printable(hint) if hint else None

    @property
    def exit_code(self) -> int:  # click exits with this (a class attribute in ClickException)
        return int(self.code)

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(self.message, err=file is None, file=file)
        if self.hint:
            click.echo(f"hint: {self.hint}", err=file is None, file=file)


def as_failure(error: BaseException) -> OrbitFailure | None:
    """Our own error as its one line and exit code; None for anything else. Dagster wraps
    what our code raises while it loads the code location (a `ComponentTreeException` around
    a refused setting): the error it was raised from counts."""
    if isinstance(error, StoreUnavailableError):
        return OrbitFailure(str(error), code=ExitCode.STORE_UNAVAILABLE, hint=STORE_HINT)
    if isinstance(error, MetricNotFoundError):
        return OrbitFailure(str(error), hint=NOT_FOUND_HINT)
    if isinstance(error, OWN_ERRORS):
        return OrbitFailure(str(error))
    return None if error.__cause__ is None else as_failure(error.__cause__)


def refresh_failure(
    store: Store, metric_id: str, mode: str, run_id: str, run_error: str | None
) -> OrbitFailure:
    """`ID: MODE failed at STEP: REASON (run RUN_ID)`: the step and reason from the metric's
    step log when the run's failed step is there, else Dagster's reason for the run."""
    run_line = f"{metric_id}: {mode} failed: {run_error or 'the run failed'} (run {run_id})"
    try:
        progress = store.refresh_log.progress(metric_id, is_run_active=lambda _run: False)
    except StoreUnavailableError:
        return OrbitFailure(run_line, code=ExitCode.STORE_UNAVAILABLE, hint=STORE_HINT)
    failed = [row for row in progress.finished_steps if row.status == s.FAILED]
    if progress.run_id != run_id or not failed:
        return OrbitFailure(run_line, code=ExitCode.FAILED, hint=RUN_HINT.format(run_id=run_id))
    step = failed[0]
    reason = step.error or "the step failed"
    line = f"{metric_id}: {mode} failed at {step.step}: {reason} (run {run_id})"
    hint = STEP_HINTS.get(step.step, RUN_HINT).format(run_id=run_id, metric_id=metric_id)
    return OrbitFailure(line, code=ExitCode.FAILED, hint=hint)


def printable(text: str) -> str:
    """`text` as one line a terminal shows as it is: runs of whitespace (a validation error's
    line breaks) as one space, any other control character (an escape sequence in an API's
    error body, a metric name) spelled out as `\\x1b`, never sent to the terminal."""
    one_line = " ".join(text.split())
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in one_line)


class OrbitGroup(click.Group):
    """The `orbit` group: turns what a command raised into its one line and exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        verbose = bool(ctx.params.get("verbose"))
        try:
            return super().invoke(ctx)
        except OrbitFailure as failure:
            if verbose:
                _print_stack(failure.__cause__ or failure.__context__)
            raise
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:
            # The reader went away (`orbit metrics list | head`): the rest of the output is
            # not wanted. Exit as a Unix tool killed by SIGPIPE would, without a stack, and
            # point stdout at /dev/null so the interpreter's final flush does not fail again
            # (the recipe of Python's signal module documentation).
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise click.exceptions.Exit(ExitCode.BROKEN_PIPE) from None
        except Exception as error:
            failure = as_failure(error)
            if failure is None or verbose:
                _print_stack(error)
            if failure is None:
                failure = OrbitFailure(
                    f"unexpected error: {type(error).__name__}: {error}",
                    code=ExitCode.UNEXPECTED,
                )
            raise failure from error


def _print_stack(error: BaseException | None) -> None:
    if error is not None:
        traceback.print_exception(error, file=sys.stderr)


def exit_codes_epilog() -> str:
    """The exit-code table for `orbit --help` (click keeps `\\b` paragraphs as written)."""
    rows = "\n".join(f"  {int(code):>3}  {meaning}" for code, meaning in EXIT_CODES.items())
    return f"\b\nExit codes:\n{rows}"
