"""`orbit transformer`: read a metric's stored transformer code, and try any transformer in the
sandbox on a payload file. This is how a person debugs a metric: `show` the code, save and
edit it, `run` it on the fetched payload until the output is right.

Output goes to stdout (the code, or the validated output as JSON); notes and errors go to
stderr, and every failure exits non-zero.
"""

import json
import math
from pathlib import Path
from typing import Any

import click

from orbit_dagster import settings
from orbit_dagster.store import Store
from orbit_dagster.transformers import (
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
    stored = Store(settings.database_url()).get_transformer(kind, metric_id)
    if stored is None:
        raise click.ClickException(f"metric '{metric_id}' has no stored {kind} transformer")
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
        raise click.ClickException(f"--config {config_file} must hold a JSON object")
    limits = SandboxLimits()
    if time_limit is not None:
        limits = SandboxLimits(wall_seconds=time_limit, cpu_seconds=math.ceil(time_limit))
    try:
        if kind == "ingestion":
            result = run_ingestion(code, data, config, limits=limits)
            output: Any = result.points
            if result.skipped:
                skipped = ", ".join(f"{count} {why}" for why, count in result.skipped.items())
                click.echo(f"skipped: {skipped}", err=True)
        else:
            output = run_transformer(code, data, config, kind="chart", limits=limits)
    except TransformerError as error:
        raise click.ClickException(str(error)) from None
    click.echo(json.dumps(output, indent=2))


def _read_text(path: Path, option: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise click.ClickException(
            f"{option} {path}: cannot be read as UTF-8 text: {error}"
        ) from None


def _read_json(path: Path, option: str) -> Any:
    try:
        return json.loads(_read_text(path, option))
    except json.JSONDecodeError as error:
        raise click.ClickException(f"{option} {path} is not valid JSON: {error}") from None
