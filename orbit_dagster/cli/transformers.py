"""`orbit transformer`: read a metric's stored transformer code, try any transformer in the
sandbox on a payload file, and `preview` which series the generator would choose from a
source (saving nothing). This is how a person debugs a metric: `preview` the choice, `show`
the code, save and edit it, `run` it on the fetched payload until the output is right.

Output goes to stdout (the code, or the validated output as JSON); notes and errors go to
stderr, and every failure exits non-zero.
"""

import json
import math
from pathlib import Path
from typing import Any

import click

from orbit_dagster.cli.errors import ExitCode
from orbit_dagster.cli.output import echo_json, echo_table, fail, parse_config, plain, store
from orbit_dagster.refresh.preview import preview_series
from orbit_dagster.sources import SourceError
from orbit_dagster.store import MetricNotFoundError
from orbit_dagster.transformers import (
    GenerationError,
    SandboxLimits,
    TransformerError,
    run_ingestion,
    run_transformer,
)

KINDS = ("ingestion", "chart")
FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group("transformer")
def transformer() -> None:
    """Inspect and try transformers."""


@transformer.command("show")
@click.argument("metric_id")
@click.option("--kind", type=click.Choice(KINDS), default="ingestion", show_default=True)
def show(metric_id: str, kind: str) -> None:
    """Print the metric's stored transformer code."""
    stored = store().get_transformer(kind, metric_id)
    if stored is None:
        fail(f"metric '{metric_id}' has no stored {kind} transformer")
    click.echo(f"# {kind} transformer of {metric_id}, by {stored.generator}", err=True)
    click.echo(stored.code, nl=not stored.code.endswith("\n"))


@transformer.command("run")
@click.option("--code", "code_file", type=FILE, required=True, help="The transformer's code.")
@click.option("--input", "input_file", type=FILE, required=True, help="Payload or points JSON.")
@click.option("--kind", type=click.Choice(KINDS), default="ingestion", show_default=True)
@click.option("--config", "config_file", type=FILE, default=None, help="Metric config JSON.")
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0.1),
    default=None,
    help="Wall-clock seconds (CPU time: the same, rounded up).",
)
def run(
    code_file: Path, input_file: Path, kind: str, config_file: Path | None, time_limit: float | None
) -> None:
    """Run a transformer in the sandbox and print its validated output as JSON."""
    code = _read_text(code_file, "--code")
    data = _read_json(input_file, "--input")
    config = {} if config_file is None else _read_json(config_file, "--config")
    if not isinstance(config, dict):
        fail(f"--config {config_file} must hold a JSON object")
    limits = SandboxLimits()
    if time_limit is not None:
        limits = SandboxLimits(wall_seconds=time_limit, cpu_seconds=math.ceil(time_limit))
    try:
        if kind == "ingestion":
            result = run_ingestion(code, data, config, limits=limits)
            output: Any = result.points
            if result.skipped:
                click.echo(_skipped_text(result.skipped), err=True)
        else:
            output = run_transformer(code, data, config, kind="chart", limits=limits)
    except TransformerError as error:
        fail(f"{code_file}: {error}", code=ExitCode.FAILED)
    click.echo(json.dumps(output, indent=2))


@transformer.command("preview")
@click.argument("metric_id", required=False)
@click.option("--template", default=None, help="For a metric not added yet: its template.")
@click.option("--config", "config_pairs", multiple=True, metavar="KEY=VALUE", help="Repeatable.")
@click.option("--name", default=None, help="The metric's name (its intent steers the choice).")
@click.option("--description", default=None, help="The metric's description.")
@click.option("--rows", default=5, show_default=True, help="First and last points shown.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def preview(
    metric_id: str | None,
    template: str | None,
    config_pairs: tuple[str, ...],
    name: str | None,
    description: str | None,
    rows: int,
    as_json: bool,
) -> None:
    """Fetch once and show the series the built-in generator would choose, the candidates it
    chose among (with the config that picks each) and what the chosen one yields. Nothing is
    saved. For a stored metric, --config/--name/--description try other values.

    Examples: orbit transformer preview stars;
    orbit transformer preview --template http-json --config url=https://... --name "Orders per day"
    """
    if (metric_id is None) == (template is None):
        raise click.UsageError("give a METRIC_ID or --template (for a metric not added yet)")
    metric = {"template": template, "config": {}, "name": "", "description": ""}
    if metric_id is not None:
        try:
            metric = store().get_metric(metric_id)
        except MetricNotFoundError as error:
            fail(str(error))
    config = {**metric["config"], **parse_config(config_pairs)}
    try:
        result = preview_series(
            metric["template"],
            config,
            name=name if name is not None else metric["name"] or metric_id or "metric",
            description=description if description is not None else metric["description"],
        )
    except (SourceError, GenerationError, TransformerError) as error:
        fail(str(error))
    period, totals = result.totals()
    candidates = [
        {
            "rank": rank,
            "series": candidate.describe(),
            "config": candidate.hint(),
            "reason": candidate.reason,
        }
        for rank, candidate in enumerate(result.generated.candidates, start=1)
    ]
    if as_json:
        echo_json(
            {
                "note": result.generated.note,
                "candidates": candidates,
                "points": len(result.points),
                "first": result.points[:rows],
                "last": result.points[-rows:] if len(result.points) > rows else [],
                "totals": {"period": period, "values": totals},
                "skipped": result.skipped,
            }
        )
        return
    click.echo(plain(result.generated.note))
    click.echo("")
    echo_table(
        ("#", "series", "config"),
        [
            (f"{c['rank']}{'*' if c['rank'] == 1 else ''}", c["series"], c["config"])
            for c in candidates
        ],
    )
    click.echo("")
    skipped = _skipped_text(result.skipped)
    click.echo(f"{len(result.points)} points" + (f"; {skipped}" if skipped else ""))
    shown = (
        result.points
        if len(result.points) <= 2 * rows
        else (result.points[:rows] + [None] + result.points[-rows:])
    )
    echo_table(
        ("date", "value", "dimensions"),
        [
            ("...", None, None)
            if point is None
            else (point["date"], f"{point['value']:g}", point["dimensions"] or None)
            for point in shown
        ],
    )
    click.echo("")
    echo_table(
        (f"total per {period}", "value"),
        [(key, f"{total:g}") for key, total in list(totals.items())[-12:]],
    )
    click.echo("nothing was saved")


def _skipped_text(skipped: dict[str, int]) -> str:
    """`skipped: 2 no usable date, 1 no usable value`, or "" when nothing was skipped."""
    return "skipped: " + ", ".join(f"{n} {why}" for why, n in skipped.items()) if skipped else ""


def _read_text(path: Path, option: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"{option} {path}: cannot be read as UTF-8 text: {error}")


def _read_json(path: Path, option: str) -> Any:
    try:
        return json.loads(_read_text(path, option))
    except json.JSONDecodeError as error:
        fail(f"{option} {path} is not valid JSON: {error}")
