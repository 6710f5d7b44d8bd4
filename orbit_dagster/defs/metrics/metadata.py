"""Materialization metadata of a metric's assets, shown per partition in the Dagster UI."""

import base64
import datetime as dt
from typing import Any

import dagster as dg

from orbit_dagster.charts import ChartRenderError, render_png, rows_drawn, summarize
from orbit_dagster.quality.freshness import moment
from orbit_dagster.refresh.state import RefreshState
from orbit_dagster.store import Store
from orbit_dagster.store.step_log import step_of

# The series facts that are dates (ISO-8601 text in `summarize`'s JSON).
DATE_FACTS = ("first_date", "last_date", "value_date")
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
    metadata: dict[str, Any] = {
        "step_durations_ms": durations,
        "points_saved": state.points_saved,
        "mode": state.mode,
    }
    if state.saved_range:
        first, last = state.saved_range
        metadata["first_date"] = _timestamp(first)
        metadata["last_date"] = _timestamp(last)
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
        **{
            # Dates as Dagster timestamps (the UI shows them in the viewer's time zone).
            key: _timestamp(value) if key in DATE_FACTS else value
            for key, value in summarize(points).as_metadata().items()
        },
    }
    if picture:
        metadata["chart"] = _picture(spec)
    return metadata


def _timestamp(value: dt.datetime | str) -> dg.MetadataValue:
    """A store date (naive UTC, or ISO-8601 text) as a Dagster timestamp, which must be aware."""
    aware = moment(value)
    if aware is None:
        raise ValueError(f"not a date: {value!r}")
    return dg.MetadataValue.timestamp(aware)


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
