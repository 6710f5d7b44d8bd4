"""`orbit` commands: metrics, refresh, progress, demo.

Click (already installed with Dagster) parses the command line: it gives typed options,
repeatable `--config KEY=VALUE`, choices with clear usage errors and exit code 2 on misuse.
A failure is one line on stderr with an exit code of its kind (`cli/errors.py`); `--json`
output goes to stdout only.
Commands that run or register Dagster things reach it through `cli/location.py`, which
imports Dagster only when called: `metrics list` and `metrics show` need not pay for it.
"""

import shlex
from pathlib import Path
from typing import Any

import click
from croniter import croniter

from orbit_dagster import settings
from orbit_dagster.cli import examples, location, output
from orbit_dagster.cli.charts import chart
from orbit_dagster.cli.documents import documents
from orbit_dagster.cli.errors import (
    ExitCode,
    OrbitFailure,
    OrbitGroup,
    exit_codes_epilog,
    refresh_failure,
)
from orbit_dagster.cli.lineage import lineage
from orbit_dagster.cli.output import (
    echo_json,
    echo_table,
    fail,
    parse_config,
    status_and_when,
    status_time,
    status_word,
)
from orbit_dagster.cli.runs import check_interrupted, dagster_home, recover, resume, runs
from orbit_dagster.cli.stats import stats
from orbit_dagster.cli.transformers import transformer
from orbit_dagster.quality import run_checks, subject_now
from orbit_dagster.refresh.modes import MODES
from orbit_dagster.refresh.progress import progress_answer
from orbit_dagster.refresh.table import BY_NAME
from orbit_dagster.sources import SAMPLES, sample_path
from orbit_dagster.sources.templates import prepare_config
from orbit_dagster.store import MetricNotFoundError
from orbit_dagster.transformers.builtin.hints import HINT_KEYS, check_hints

DEMO_POINTS_SHOWN = 5


def demo_next() -> list[tuple[str, str]]:
    """What a new user does after the demo: look at it in the UI, add a metric of their own
    (a small CSV written under the data folder, where the file template reads), see its
    points. Every command works as printed, from the folder the demo ran in."""
    mine = settings.data_dir() / "mine.csv"
    shown = shlex.quote(
        str(mine.relative_to(Path.cwd()) if mine.is_relative_to(Path.cwd()) else mine)
    )
    return [
        ("make dev", "the Dagster UI at http://127.0.0.1:3000 (runs, assets, charts)"),
        (
            f"printf 'date,value\\n2026-11-01,3\\n2026-11-02,5\\n' > {shown} && "
            f"orbit metrics add --id mine --name Mine --template file --config path={shown}",
            "add your own metric",
        ),
        ("orbit refresh mine && orbit metrics show mine --points", "see its points"),
    ]


def _check_schedule(schedule: str | None) -> None:
    """A usage error for a `--schedule` that is not a cron expression."""
    if schedule is not None and not croniter.is_valid(schedule):
        raise click.BadParameter(
            f"{schedule!r} is not a valid cron expression", param_hint="--schedule"
        )


def _prepared_config(template: str, config: dict[str, Any]) -> dict[str, Any]:
    """The config to store; refused, before anything is stored, when its template or the
    generator would refuse it."""
    prepared = prepare_config(template, config)
    check_hints({key: value for key, value in prepared.items() if key in HINT_KEYS})
    return prepared


@click.group(cls=OrbitGroup, epilog=exit_codes_epilog())
@click.option(
    "--verbose",
    is_flag=True,
    help="On failure, print the stack too; print Dagster's run log records as they happen.",
)
def cli(verbose: bool) -> None:
    """Orbit: per-metric time series and charts from third-party APIs, on Dagster."""


@cli.group()
def metrics() -> None:
    """Register and inspect metrics."""


@metrics.command("add")
@click.option(
    "--id", "metric_id", required=True, help="Metric id (also its Dagster partition key)."
)
@click.option("--name", required=True, help="Display name.")
@click.option("--template", required=True, help="Source template, e.g. file or http-json.")
@click.option("--config", "config_pairs", multiple=True, metavar="KEY=VALUE", help="Repeatable.")
@click.option("--schedule", default=None, metavar="CRON", help="Refresh schedule (UTC cron).")
@click.option("--description", default="", help="What the metric means.")
@click.option("--organization", default=None, help="Owning organization.")
def metrics_add(
    metric_id: str,
    name: str,
    template: str,
    config_pairs: tuple[str, ...],
    schedule: str | None,
    description: str,
    organization: str | None,
) -> None:
    """Register a metric (the daemon's catalog sensor gives it a partition and a create run)."""
    config = parse_config(config_pairs)
    _check_schedule(schedule)
    config = _prepared_config(template, config)
    metric = output.store().add_metric(
        metric_id,
        name=name,
        template=template,
        config=config,
        schedule=schedule,
        description=description,
        organization=organization,
    )
    # No partition here: metric_catalog_sensor adds it and launches the metric's one create
    # run (with the daemon running); `orbit refresh` adds it when run by hand.
    click.echo(f"added metric {metric['id']} ({template})")


@metrics.command("update")
@click.argument("metric_id")
@click.option("--name", default=None, help="New display name.")
@click.option("--description", default=None, help="New description.")
@click.option(
    "--config",
    "config_pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="Set a config key (repeatable); KEY= with no value removes it.",
)
@click.option("--schedule", default=None, metavar="CRON", help="New refresh schedule (UTC cron).")
@click.option("--no-schedule", is_flag=True, help="Remove the metric's own schedule.")
def metrics_update(
    metric_id: str,
    name: str | None,
    description: str | None,
    config_pairs: tuple[str, ...],
    schedule: str | None,
    no_schedule: bool,
) -> None:
    """Change a metric in place; its points are kept.

    A changed name, description or config marks the metric's transformers outdated: the next
    refresh (a soft one too) writes them anew. Old points stay until a hard refresh.
    """
    if schedule is not None and no_schedule:
        raise click.UsageError("give --schedule or --no-schedule, not both")
    _check_schedule(schedule)
    store = output.store()
    metric = store.get_metric(metric_id)
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = name
    if description is not None:
        changes["description"] = description
    if config_pairs:
        config = {**metric["config"], **parse_config(config_pairs)}
        kept = {key: value for key, value in config.items() if value != ""}
        changes["config"] = _prepared_config(metric["template"], kept)
    if schedule is not None or no_schedule:
        changes["schedule"] = schedule
    changed = store.update_metric(metric_id, changes, is_run_active=location.run_is_active(store))
    if not changed:
        click.echo(f"metric {metric_id} unchanged")
        return
    outdated = store.get_transformer("ingestion", metric_id)
    after = (
        "; its transformers will be regenerated on the next refresh"
        if outdated is not None and outdated.outdated_reason
        else ""
    )
    click.echo(f"updated metric {metric_id}: {', '.join(changed)}{after}")


@metrics.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def metrics_list(as_json: bool) -> None:
    """List metrics."""
    store = output.store()
    rows = [output.shown_metric(row) for row in store.list_metrics()]
    if as_json:
        echo_json(rows)
        return
    # Dagster is asked (and imported) only for the rows whose lock is held.
    is_active = location.run_is_active(store)
    words = [status_word(row, is_active) for row in rows]
    echo_table(
        ("id", "template", "status", "since", "name", "last error"),
        [
            (
                row["id"],
                row["template"],
                word,
                status_time(row, word),
                row["name"],
                row["last_error"] if word == "failed" else None,
            )
            for row, word in zip(rows, words, strict=True)
        ],
        empty="no metrics yet: `orbit demo` adds samples, `orbit metrics add --help` your own",
    )


@metrics.command("show")
@click.argument("metric_id")
@click.option("--points", is_flag=True, help="Include the data points.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def metrics_show(metric_id: str, points: bool, as_json: bool) -> None:
    """Show one metric, optionally with its points sorted by date."""
    store = output.store()
    row = store.get_metric(metric_id)
    metric = output.shown_metric(row)
    series = [p.to_json() for p in store.list_points(metric_id)]
    # The same data-quality checks the asset checks record in Dagster, on the stored metric now.
    checks = [
        {"name": r.name, "passed": r.passed, "severity": r.severity, "description": r.description}
        for r in run_checks(subject_now(series, row))
    ]
    if points:
        metric["points"] = series
    if as_json:
        echo_json({**metric, "checks": checks})
        return
    # The status word `metrics list` and `progress` use, then every field as text: absent
    # values as "-", objects as compact JSON, never Python reprs.
    status = status_and_when(metric, location.run_is_active(store))
    error = f": {output.plain(metric['last_error'])}" if status.startswith("failed") else ""
    click.echo(f"status: {status}{error}")
    for key, value in metric.items():
        if key != "points":
            click.echo(f"{key}: {output.plain(value)}")
    failing = [c for c in checks if not c["passed"]]
    click.echo("checks: all passed" if not failing else "checks:")
    for check in failing:
        click.echo(f"  {check['name']} ({check['severity']}): {output.plain(check['description'])}")
    for point in metric.get("points", []):
        dims = f" {output.plain(point['dimensions'])}" if point["dimensions"] else ""
        click.echo(f"  {point['date']}  {point['value']:g}{dims}")


@metrics.command("delete")
@click.argument("metric_id")
def metrics_delete(metric_id: str) -> None:
    """Delete a metric with its points, transformers, chart and step log."""
    from orbit_dagster import dagster_api

    output.store().delete_metric(metric_id)
    dagster_api.remove_metric_partition(location.instance(), metric_id)
    click.echo(f"deleted metric {metric_id}")


def _refresh(metric_id: str, mode: str, *, as_json: bool = False) -> None:
    """Run one refresh through Dagster and print its outcome, as a line or (`as_json`) one
    JSON object; OrbitFailure when it failed (after the JSON, which says so too)."""
    from orbit_dagster import dagster_api

    store = output.store()
    store.get_metric(metric_id)  # an unknown metric is refused before any run
    outcome = dagster_api.run_refresh(
        location.metric_definitions(),
        location.instance(),
        metric_id,
        mode,  # type: ignore[arg-type]
        verbose=output.verbose(),
    )
    failure = (
        None
        if outcome.success
        else refresh_failure(store, metric_id, mode, outcome.run_id, outcome.error)
    )
    points = store.count_points(metric_id)
    if as_json:
        echo_json(
            {
                "metric_id": metric_id,
                "mode": mode,
                "run_id": outcome.run_id,
                "status": "failed" if failure else "succeeded",
                "points": points,
                "error": failure.message if failure else None,
            }
        )
    elif not failure:
        click.echo(f"{metric_id}: {mode} succeeded (run {outcome.run_id}), {points} points stored")
    if failure:
        raise failure


@cli.command("refresh")
@click.argument("metric_id")
@click.option("--mode", type=click.Choice(MODES), default="soft-refresh", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as one JSON object.")
def refresh(metric_id: str, mode: str, as_json: bool) -> None:
    """Refresh one metric through the Dagster job `refresh_metric_job`."""
    _refresh(metric_id, mode, as_json=as_json)


@cli.command("progress")
@click.argument("metric_id")
@click.option("--organization", default=None, help="Only if the metric belongs to it.")
@click.option("--json", "as_json", is_flag=True, help="Print the progress object.")
def progress(metric_id: str, organization: str | None, as_json: bool) -> None:
    """Steps of the metric's current (or last) refresh.

    --json prints the front end's contract: the steps only while a run is active.
    """
    store = output.store()
    is_active = location.run_is_active(store)
    record = store.refresh_log.progress(
        metric_id, organization=organization, is_run_active=is_active
    )
    if as_json:
        echo_json(progress_answer(record))
        return
    state = status_and_when(store.get_metric(metric_id), is_active)
    if record.processing:
        state += f": {record.current_step}"
    run = f" (run {record.run_id})" if record.run_id else ""
    click.echo(f"{metric_id}: {state}{run}")
    # The terminal shows the last run's steps too, finished or not, in the store's words.
    steps = record.finished_steps if record.processing else record.steps
    if steps:
        echo_table(
            ("step", "status", "ms"),
            [(BY_NAME[step.step].display_name, step.status, step.duration_ms) for step in steps],
        )
    if record.error:
        click.echo(f"error: {output.plain(record.error)}")


@cli.command("sync")
def sync() -> None:
    """Mirror the code location's jobs, assets, schedules and sensors into `pipelines`, and
    give every registered metric its partition in the instance (`orbit dagster-home`)."""
    from orbit_dagster.dagster_api import ensure_metric_partitions, pipeline_entries

    store = output.store()
    instance = location.instance()
    entries = pipeline_entries(location.definitions().get_repository_def(), instance)
    counts = store.sync_pipelines(entries)
    metric_ids = [metric["id"] for metric in store.list_metrics()]
    ensure_metric_partitions(instance, metric_ids)
    click.echo(
        f"pipelines: {counts['mirrored']} mirrored, {counts['retired']} marked inactive; "
        f"metric partitions: {len(metric_ids)}"
    )


@cli.command("demo")
def demo() -> None:
    """Register the bundled sample metrics, refresh them, print their latest points."""
    store = output.store()
    failed = []
    for sample, (name, description) in SAMPLES.items():
        metric_id = f"demo-{sample.replace('_', '-')}"
        try:
            store.get_metric(metric_id)
            mode = "soft-refresh"
        except MetricNotFoundError:
            store.add_metric(
                metric_id,
                name=name,
                template="file",
                config={"path": str(sample_path(sample))},
                description=description,
            )
            mode = "create"
        try:
            _refresh(metric_id, mode)
        except OrbitFailure as failure:
            failure.show()
            failed.append(metric_id)
    click.echo("")
    echo_table(
        ("metric", "date", "value", "dimensions"),
        [
            (metric["id"], point.to_json()["date"], f"{point.value:g}", point.dimensions or None)
            for metric in store.list_metrics()
            if metric["id"].startswith("demo-")
            for point in store.list_points(metric["id"])[-DEMO_POINTS_SHOWN:]
        ],
    )
    if failed:
        fail(f"demo refresh failed for {', '.join(failed)}", code=ExitCode.FAILED)
    click.echo("")
    click.echo("next:")
    for command, why in demo_next():
        click.echo(f"  {why}:\n    {command}")


cli.add_command(transformer)
cli.add_command(chart)
cli.add_command(stats)
cli.add_command(documents)
cli.add_command(runs)
cli.add_command(check_interrupted)
cli.add_command(recover)
cli.add_command(resume)
cli.add_command(dagster_home)
cli.add_command(lineage)
examples.attach(cli)
