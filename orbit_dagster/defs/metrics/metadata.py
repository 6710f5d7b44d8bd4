"""Materialization metadata of a metric's assets, shown per partition in the Dagster UI."""

from typing import Any

import dagster as dg

from orbit_dagster.refresh.state import RefreshState


def points_metadata(state: RefreshState) -> dict[str, Any]:
    first, last = state.saved_range or (None, None)
    metadata: dict[str, Any] = {
        "points_saved": state.points_saved,
        "mode": state.mode,
        "first_date": first.isoformat() if first else "",
        "last_date": last.isoformat() if last else "",
    }
    if state.transformer is not None:
        metadata["transformer"] = dg.MetadataValue.md(f"```python\n{state.transformer.code}\n```")
        metadata["generator"] = state.transformer.generator
    return metadata


def chart_metadata(state: RefreshState) -> dict[str, Any]:
    spec = state.chart_spec or {}
    return {
        "mark": str(spec.get("mark", "")),
        # The spec without its data values, which can be the whole series.
        "vega_lite": dg.MetadataValue.json({k: v for k, v in spec.items() if k != "data"}),
    }
