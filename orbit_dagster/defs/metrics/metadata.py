"""Materialization metadata of a metric's assets, shown per partition in the Dagster UI."""

import base64
from typing import Any

import dagster as dg

from orbit_dagster.charts import ChartRenderError, render_png, rows_drawn, summarize
from orbit_dagster.refresh.state import RefreshState
from orbit_dagster.store import Store
from orbit_dagster.store.step_log import step_of

# A picture is kept in the run's event log with every materialization: bound its size.
MAX_PICTURE_BYTES = 300_000


def step_durations(store: Store, metric_id: str, run_id: str) -> dg.MetadataValue:
    """How long each step of this run took so far on the metric, in ms (the step log's)."""
    return dg.MetadataValue.json(
        {
            step_of(row["endpoint"]): row["duration_ms"]
            for row in store.refresh_log.steps(metric_id, run_id)
            if row["duration_ms"] is not None
        }
    )


def points_metadata(state: RefreshState, durations: dg.MetadataValue) -> dict[str, Any]:
    first, last = state.saved_range or (None, None)
    metadata: dict[str, Any] = {
        "step_durations_ms": durations,
        "points_saved": state.points_saved,
        "mode": state.mode,
        "first_date": first.isoformat() if first else "",
        "last_date": last.isoformat() if last else "",
    }
    if state.transformer is not None:
        metadata["transformer"] = dg.MetadataValue.md(f"```python\n{state.transformer.code}\n```")
        metadata["generator"] = state.transformer.generator
    return metadata


def chart_metadata(
    state: RefreshState,
    points: list[dict[str, Any]],
    durations: dg.MetadataValue,
    *,
    picture: bool,
) -> dict[str, Any]:
    """The chart's spec (without its data), the facts of the series beside it and, when
    `picture`, the chart drawn as a PNG inside a markdown image (the UI shows `data:` images).

    Batch runs leave the picture out: drawing costs ~75 ms a chart against ~10 ms for the rest
    of a metric's refresh; a one-metric refresh and `orbit chart` draw it.
    """
    spec = state.chart_spec or {}
    mark = spec.get("mark", "")
    metadata: dict[str, Any] = {
        "step_durations_ms": durations,
        "mark": mark.get("type", "") if isinstance(mark, dict) else str(mark),
        # The spec without its data values, which can be the whole series.
        "vega_lite": dg.MetadataValue.json({k: v for k, v in spec.items() if k != "data"}),
        **summarize(points).as_metadata(),
    }
    if picture:
        metadata["chart"] = _picture(spec)
    return metadata


def _picture(spec: dict[str, Any]) -> dg.MetadataValue:
    try:
        png = render_png(spec)
    except ChartRenderError as error:
        return dg.MetadataValue.text(f"no preview: {error}")
    if len(png) > MAX_PICTURE_BYTES:
        return dg.MetadataValue.text(
            f"no preview: the picture is {len(png):,} bytes (at most {MAX_PICTURE_BYTES:,})"
        )
    encoded = base64.b64encode(png).decode("ascii")
    drawn, total = rows_drawn(spec)
    # A long series is drawn from its newest rows: say so under the picture.
    caption = f"\n\nthe newest {drawn:,} of {total:,} points are drawn" if drawn < total else ""
    return dg.MetadataValue.md(f"![chart](data:image/png;base64,{encoded}){caption}")
