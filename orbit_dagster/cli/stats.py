"""`orbit stats`: the pipeline health figures (the `pipeline_health` asset's numbers) from
Dagster's run storage in `DAGSTER_HOME` and the Orbit store, as a table or JSON."""

import click

from orbit_dagster.cli import location
from orbit_dagster.cli.output import echo_json, echo_table, parse_window, plain, store, utc_z


@click.command("stats")
@click.option("--since", "window", default="24h", show_default=True, help="e.g. 90m, 24h, 7d.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def stats(window: str, as_json: bool) -> None:
    """Per job success rate, runs per hour, p50/p95 duration; failed runs, metrics with errors,
    stale metrics."""
    span = parse_window(window)
    from orbit_dagster import dagster_api  # Dagster is imported only when the figures are read

    figures = dagster_api.health_figures(location.instance(), store(), span)
    if as_json:
        echo_json(figures)
        return
    click.echo(utc_z(f"runs from {figures['since']} to {figures['until']}: {figures['runs']}"))
    echo_table(
        ("job", "runs", "ok", "failed", "success", "/hour", "p50 s", "p95 s"),
        [
            (
                job,
                row["runs"],
                row["succeeded"],
                row["failed"],
                None if row["success_rate"] is None else f"{row['success_rate']:.0%}",
                f"{row['runs_per_hour']:.2f}",
                None if row["p50_seconds"] is None else f"{row['p50_seconds']:.2f}",
                None if row["p95_seconds"] is None else f"{row['p95_seconds']:.2f}",
            )
            for job, row in figures["jobs"].items()
        ],
    )
    for run in figures["failed_runs"]:
        click.echo(
            utc_z(
                f"failed: {run['started']} {run['job']} run {run['run_id']}: {plain(run['error'])}"
            )
        )
    click.echo(f"interrupted runs (process died, failed by Orbit): {figures['interrupted_runs']}")
    click.echo(f"metrics: {figures['metrics']}")
    click.echo(f"metrics with errors: {', '.join(figures['metrics_with_errors']) or 'none'}")
    click.echo(f"stale metrics: {', '.join(figures['stale_metrics']) or 'none'}")
