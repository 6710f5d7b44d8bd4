"""`orbit chart`: a metric's stored chart drawn offline, as a PNG picture or a standalone HTML
page, the same picture its materialization shows in the Dagster UI; with neither option, the
facts beside the chart (points, first and last date, last value, change)."""

from pathlib import Path

import click

from orbit_dagster.charts import ChartRenderError, render_html, render_png, summarize
from orbit_dagster.cli.output import echo_json, fail, store
from orbit_dagster.store import MetricNotFoundError

OUTPUT = click.Path(dir_okay=False, writable=True, path_type=Path)


@click.command("chart")
@click.argument("metric_id")
@click.option("--png", "png_file", type=OUTPUT, default=None, help="Write the chart as PNG.")
@click.option("--html", "html_file", type=OUTPUT, default=None, help="Write a standalone page.")
def chart(metric_id: str, png_file: Path | None, html_file: Path | None) -> None:
    """Draw a metric's chart, or print the facts beside it."""
    orbit_store = store()
    try:
        orbit_store.get_metric(metric_id)
    except MetricNotFoundError as error:
        fail(str(error))
    spec = orbit_store.get_chart_config(metric_id)
    if spec is None:
        fail(f"metric '{metric_id}' has no chart yet: refresh it first (orbit refresh {metric_id})")
    if png_file is None and html_file is None:
        points = [point.to_json() for point in orbit_store.list_points(metric_id)]
        echo_json(summarize(points).as_metadata())
        return
    try:
        if png_file is not None:
            png_file.write_bytes(render_png(spec))
            click.echo(f"wrote {png_file}")
        if html_file is not None:
            html_file.write_text(render_html(spec), encoding="utf-8")
            click.echo(f"wrote {html_file}")
    except (ChartRenderError, OSError) as error:
        fail(f"{metric_id}: {error}")
