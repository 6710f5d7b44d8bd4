"""Chart previews: a metric's stored Vega-Lite spec drawn offline (PNG, standalone HTML), and
the few facts a person reads beside the picture. Nothing here imports Dagster."""

from orbit_dagster.charts.render import (
    ChartRenderError,
    render_html,
    render_png,
    rows_drawn,
    warm_up,
)
from orbit_dagster.charts.summary import SeriesSummary, summarize

__all__ = [
    "ChartRenderError",
    "SeriesSummary",
    "render_html",
    "render_png",
    "rows_drawn",
    "summarize",
    "warm_up",
]
