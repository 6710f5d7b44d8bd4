"""What every `orbit` command shares: the store it reads, `--config` pairs, JSON output,
failing with a message.

Errors go to stderr as one line with an exit code of its kind (`cli/errors.py`); `--json`
output goes to stdout only, as indented JSON with sorted keys.
"""

import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import click

from orbit_dagster import settings
from orbit_dagster.cli.errors import ExitCode, OrbitFailure, printable
from orbit_dagster.sources.redaction import REDACTED
from orbit_dagster.sources.urls import secret_keys
from orbit_dagster.store import Store

# A cell that reads as a number ("-" for none, a percentage, a unit-less figure): such columns
# line up on the right.
NUMBER = re.compile(r"-|[-+]?\d[\d,]*(\.\d+)?(e[-+]?\d+)?%?")
UTC_OFFSET = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?)\+00:00\b")


def store() -> Store:
    """The Orbit store the command works on: `ORBIT_DATABASE_URL`, else the embedded file."""
    return Store(settings.database_url())


def shown_metric(metric: dict[str, Any]) -> dict[str, Any]:
    """A metric as the command prints it: a config value that is a literal credential (one
    stored before `metrics add` refused them) shows as REDACTED, never as itself."""
    hidden = set(secret_keys(metric["config"]))
    config = {key: REDACTED if key in hidden else value for key, value in metric["config"].items()}
    return {**metric, "config": config}


def verbose() -> bool:
    """Whether the command runs under `orbit --verbose` (the stack and Dagster's run log
    records on the terminal)."""
    context = click.get_current_context(silent=True)
    return bool(context and context.find_root().params.get("verbose"))


def plain(value: Any) -> str:
    """A value as a table cell or a `key: value` line shows it: "-" when absent, compact JSON
    for objects and lists, otherwise the text on one line of printable characters."""
    if value is None:
        return "-"
    if isinstance(value, dict | list):
        # Letters as themselves (`café`, not `caf\u00e9`); what JSON leaves raw and a terminal
        # would act on (a right-to-left override) is spelled out by printable().
        value = json.dumps(value, sort_keys=True, separators=(", ", ": "), ensure_ascii=False)
    return printable(str(value))


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True))


def utc_z(text: str) -> str:
    """Timestamps in `text` in ISO-8601 UTC with `Z`, as the store writes them (Dagster's
    records give `+00:00`)."""
    return UTC_OFFSET.sub(r"\1Z", text)


def echo_table(
    header: Sequence[str], rows: Sequence[Sequence[Any]], *, empty: str | None = None
) -> None:
    """Rows under a header, columns as wide as their longest cell; a column of numbers is
    right-aligned, the last column otherwise unpadded. None shows as "-", timestamps end in
    `Z`. With no rows, `empty` (what to do next) is printed instead of a bare header."""
    if not rows and empty is not None:
        click.echo(empty)
        return
    lines = [
        list(header),
        *([utc_z(plain(cell)) for cell in row] for row in rows),
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    numeric = [
        all(NUMBER.fullmatch(line[i]) for line in lines[1:])
        and any(line[i] != "-" for line in lines[1:])
        for i in range(len(header))
    ]
    for line in lines:
        cells = [
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(line, widths, numeric, strict=True)
        ]
        click.echo("  ".join(cells).rstrip())


def fail(message: str, *, code: ExitCode = ExitCode.REFUSED, hint: str | None = None) -> NoReturn:
    """Stop the command: `message` as its one line on stderr, `hint` after it, exit `code`."""
    raise OrbitFailure(message, code=code, hint=hint)


def parse_config(pairs: tuple[str, ...]) -> dict[str, Any]:
    """Repeated `--config KEY=VALUE` options as a dict (a usage error names a malformed one)."""
    config: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--config")
        if key.strip() in config:
            # Which one was meant? The last winning quietly would store the other's intent.
            raise click.BadParameter(f"{key.strip()!r} is given twice", param_hint="--config")
        config[key.strip()] = value
    return config


# "90m", "24h", "7d": a number and a unit is all a window needs (no library for three units).
WINDOW = re.compile(r"(\d+)([mhd])")
UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_window(text: str) -> dt.timedelta:
    """A `--since` window: how far back from now."""
    match = WINDOW.fullmatch(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise click.BadParameter(
            f"{text!r} is not a window: give a number and m, h or d (e.g. 90m, 24h, 7d)",
            param_hint="--since",
        )
    return dt.timedelta(**{UNITS[match.group(2)]: int(match.group(1))})


def status_word(metric: dict[str, Any], is_run_active: Callable[[str], bool]) -> str:
    """One word for where a metric stands, the same in `metrics list` and `progress`:
    refreshing, interrupted (its lock is held by a run that is no longer alive; the next
    refresh takes it over), failed (its last refresh), ok, or never run."""
    holder = metric.get("refresh_run_id")
    if holder:
        return "refreshing" if is_run_active(holder) else "interrupted"
    if metric.get("last_error"):
        return "failed"
    return "ok" if metric.get("last_fetched_at") else "never run"


def status_time(metric: dict[str, Any], word: str) -> Any:
    """When the metric came to stand as `word` says: the failure's time for `failed`, the
    last successful refresh for `ok`, None otherwise."""
    return {"failed": metric.get("last_error_at"), "ok": metric.get("last_fetched_at")}.get(word)


def status_and_when(metric: dict[str, Any], is_run_active: Callable[[str], bool]) -> str:
    """The status word, and for `failed` when it failed (`metrics show`, `progress`)."""
    word = status_word(metric, is_run_active)
    if word != "failed":
        return word
    return f"failed at {status_time(metric, word) or 'an unrecorded time'}"
