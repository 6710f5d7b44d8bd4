"""`orbit runs`, `check-interrupted`, `recover`, `resume`, `dagster-home`: run history and
recovery against the Dagster instance Orbit uses (`orbit dagster-home` prints where it is).

Dagster is imported when one of these commands runs, not when `orbit` starts.
"""

import datetime as dt
from typing import Any

import click

from orbit_dagster import settings
from orbit_dagster.cli import location, output
from orbit_dagster.cli.errors import ExitCode, OrbitFailure
from orbit_dagster.cli.output import echo_json, echo_table, fail, parse_window, store, utc_z
from orbit_dagster.refresh.table import STEPS


@click.group("runs", invoke_without_command=True)
@click.option("--metric", "metric_id", default=None, help="Only the runs of this metric.")
@click.option("--status", default=None, help="Only runs in this status, e.g. failure, started.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_context
def runs(
    ctx: click.Context, metric_id: str | None, status: str | None, limit: int, as_json: bool
) -> None:
    """Recent runs, newest first (`orbit runs show RUN_ID` for one)."""
    if ctx.invoked_subcommand is not None:
        return
    from orbit_dagster.dagster_api import history

    try:
        rows = history.list_runs(
            location.instance(), store(), metric_id=metric_id, status=status, limit=limit
        )
    except history.RunHistoryError as error:
        fail(str(error))
    if as_json:
        echo_json(rows)
        return
    echo_table(
        ("run", "job", "status", "started", "seconds", "metrics", "error"),
        [
            (
                row["run_id"],
                row["job"],
                row["status"],
                row["started"],
                row["seconds"],
                ",".join(row["metrics"]) or None,
                row["error"],
            )
            for row in rows
        ],
    )


@runs.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def runs_show(run_id: str, as_json: bool) -> None:
    """One run: its steps, and per metric its step log with the fetch's request log."""
    from orbit_dagster.dagster_api import history

    try:
        detail = history.run_detail(location.instance(), store(), run_id)
    except history.RunHistoryError as error:
        fail(str(error))
    if as_json:
        echo_json(detail)
        return
    click.echo(f"run {detail['run_id']}  {detail['job']}  {detail['status']}")
    for key in ("started", "seconds", "parent_run_id", "error"):
        if detail[key] is not None:
            click.echo(utc_z(f"{key}: {output.plain(detail[key])}"))
    echo_table(
        ("step", "status", "seconds", "attempts"),
        [(s["step"], s["status"], s["seconds"], s["attempts"]) for s in detail["steps"]],
    )
    for metric_id, steps in detail["metric_steps"].items():
        click.echo(f"\nmetric {metric_id}")
        echo_table(
            ("step", "status", "ms", "error"),
            [(s["step"], s["status"], s["duration_ms"], s["error"]) for s in steps],
        )
        # The first step fetched: its detail is the request log and the response excerpt.
        fetch = steps[0] if steps else None
        if fetch and fetch["step"] == STEPS[0].name and fetch["detail"]:
            click.echo(f"request log of {fetch['step']}:")
            for line in fetch["detail"].splitlines():
                click.echo(f"  {output.plain(line)}")


@runs.command("retry")
@click.argument("run_id")
def runs_retry(run_id: str) -> None:
    """Re-execute a failed run from its failed step (the new run names it as its parent)."""
    _resume(run_id)


@click.command("resume")
@click.argument("run_id")
def resume(run_id: str) -> None:
    """Resume an interrupted or failed run from where it stopped."""
    _resume(run_id)


def _resume(run_id: str) -> None:
    failure = _resumed(store(), run_id)
    if failure:
        raise failure


def _resumed(the_store: Any, run_id: str) -> OrbitFailure | None:
    """Resume one run and say so; or why it was not resumed (None when it was): refused, or
    its re-execution failed."""
    from orbit_dagster.dagster_api import history
    from orbit_dagster.dagster_api.failures import failure_reason

    try:
        outcome = history.resume(location.instance(), the_store, run_id, verbose=output.verbose())
    except history.RunHistoryError as error:
        return OrbitFailure(f"run {run_id} not resumed: {error}")
    if not outcome.success:
        reason = failure_reason(location.instance(), outcome.run_id)
        return OrbitFailure(
            f"run {run_id} not resumed: its re-execution, run {outcome.run_id}, failed: {reason}",
            code=ExitCode.FAILED,
            hint=f"`orbit runs show {outcome.run_id}` lists its steps and their errors",
        )
    click.echo(f"resumed run {run_id} as run {outcome.run_id}: success")
    return None


def _interrupted_rows(found: list[Any]) -> list[tuple[Any, ...]]:
    return [
        (run.run_id, run.job_name, run.status.lower(), ",".join(run.metric_ids) or None,
         run.last_step, run.reason)
        for run in found
    ]  # fmt: skip


INTERRUPTED_HEADER = ("run", "job", "status", "metrics", "last step", "why it is dead")


@click.command("check-interrupted")
@click.option("--since", "window", default="24h", show_default=True, help="e.g. 90m, 24h, 7d.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def check_interrupted(window: str, as_json: bool) -> None:
    """Runs that died without finishing and are not resumed yet: still shown in progress
    though their processes are gone, or already failed as dead (changes nothing)."""
    from dataclasses import asdict

    from orbit_dagster.dagster_api.interrupted import interrupted_runs

    found = interrupted_runs(location.instance(), store(), _since(window))
    if as_json:
        echo_json([asdict(run) for run in found])
        return
    if not found:
        click.echo("no interrupted run")
        return
    echo_table(INTERRUPTED_HEADER, _interrupted_rows(found))


@click.command("recover")
@click.option(
    "--auto-resume",
    is_flag=True,
    help="Then re-execute every interrupted run (of --since) from the step it stopped in.",
)
@click.option("--since", "window", default="24h", show_default=True, help="e.g. 90m, 24h, 7d.")
def recover(auto_resume: bool, window: str) -> None:
    """Fail the runs whose processes are gone, with the reason, and release their metrics."""
    from orbit_dagster.dagster_api.interrupted import interrupted_runs
    from orbit_dagster.dagster_api.interrupted import recover as recover_runs

    the_store = store()
    failed_now = recover_runs(location.instance(), the_store)
    if failed_now:
        click.echo(f"failed {len(failed_now)} dead run(s):")
        echo_table(INTERRUPTED_HEADER, _interrupted_rows(failed_now))
    else:
        click.echo("no dead run in progress")
    if not auto_resume:
        return
    to_resume = interrupted_runs(location.instance(), the_store, _since(window))
    if not to_resume:
        click.echo("no interrupted run to resume")
    not_resumed = [
        failure.message for run in to_resume if (failure := _resumed(the_store, run.run_id))
    ]
    if not_resumed:
        fail("; ".join(not_resumed), code=ExitCode.FAILED)


def _since(window: str) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - parse_window(window)


@click.command("dagster-home")
def dagster_home() -> None:
    """Print the Dagster instance folder Orbit uses (for `export DAGSTER_HOME=...`)."""
    click.echo(settings.dagster_home())
