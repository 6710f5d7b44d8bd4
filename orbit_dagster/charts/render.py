"""Drawing a Vega-Lite spec offline with vl-convert (Vega's own renderer compiled into the
package: no browser, no network), bounded so that a chart spec written by a generated
transformer can neither reach out nor grow without limit.

The spec comes from untrusted code. vl-convert refuses external http data when no base URL
is allowed, but not every `url` route (a `file:` data URL renders silently as empty), so a
spec that names any URL is refused before it is drawn; only inline data is drawn.
"""

import copy
import functools
import json
import threading
from typing import Any

import vl_convert

# The newest rows are drawn when a series is longer: a preview, not the full chart (the
# stored spec keeps every row). Drawing 50,000 rows takes about 4 s here; 5,000 about 0.4 s.
PREVIEW_ROWS = 5_000
MAX_SIDE = 1_200  # pixels: a spec asking for a bigger view is drawn at this size
# Every key that sizes a view, wherever it sits (top level, config, concatenated views).
SIZE_KEYS = frozenset(
    ("width", "height", "continuousWidth", "continuousHeight", "discreteWidth", "discreteHeight")
)
MAX_STEP = 100  # pixels per category on a discrete axis
SCALE = 1.0


class ChartRenderError(Exception):
    """The spec cannot be drawn; the message says why."""


# The smallest chart: drawing it once starts vl-convert's JavaScript engine.
_WARM_UP_SPEC = {"data": {"values": [{"x": 0}]}, "mark": "point", "encoding": {"x": {"field": "x"}}}


@functools.cache
def warm_up() -> None:
    """Start vl-convert's renderer in a background thread, once per process.

    Its first drawing in a process takes 0.5-1 s (starting its JavaScript engine), later
    ones 0.03-0.1 s. A refresh that will draw its chart calls this as it starts, so that the
    start-up overlaps the fetch and the transformers instead of delaying the last step; the
    conversion releases the GIL, so the steps run on meanwhile.
    """
    threading.Thread(
        target=vl_convert.vegalite_to_png, args=(_WARM_UP_SPEC,), name="vl-convert-warm-up",
        daemon=True,
    ).start()  # fmt: skip


def render_png(spec: dict[str, Any]) -> bytes:
    """The chart as PNG bytes."""
    try:
        return vl_convert.vegalite_to_png(_bounded(spec), scale=SCALE, allowed_base_urls=[])
    except ValueError as error:  # vl-convert reports every conversion failure as ValueError
        raise ChartRenderError(f"the chart spec cannot be drawn: {_first_line(error)}") from None


def render_html(spec: dict[str, Any]) -> str:
    """A standalone page drawing the chart, with Vega's scripts inlined (works offline)."""
    try:
        return vl_convert.vegalite_to_html(_bounded(spec), bundle=True)
    except ValueError as error:
        raise ChartRenderError(f"the chart spec cannot be drawn: {_first_line(error)}") from None


def rows_drawn(spec: dict[str, Any]) -> tuple[int, int]:
    """(rows drawn, rows in the spec) of its inline data."""
    values = (spec.get("data") or {}).get("values")
    total = len(values) if isinstance(values, list) else 0
    return min(total, PREVIEW_ROWS), total


def _bounded(spec: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise ChartRenderError(f"a chart spec is a JSON object, not {type(spec).__name__}")
    url = _find_url(spec, "")
    if url is not None:
        raise ChartRenderError(
            f"the chart spec names a URL at {url}; only inline data is drawn in a preview"
        )
    bounded = copy.deepcopy(spec)
    _clamp_sizes(bounded)
    values = (bounded.get("data") or {}).get("values")
    if isinstance(values, list) and len(values) > PREVIEW_ROWS:
        bounded["data"]["values"] = values[-PREVIEW_ROWS:]
    # vl-convert takes the spec as text or a dict; text keeps NaN out (json refuses it).
    try:
        json.dumps(bounded, allow_nan=False)
    except ValueError:
        raise ChartRenderError("the chart spec holds a non-finite number") from None
    return bounded


def _clamp_sizes(node: Any) -> None:
    """Bound every view size and discrete step in place, so no spec asks for a huge canvas."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                if key in SIZE_KEYS:
                    node[key] = max(1, min(value, MAX_SIDE))
                elif key == "step":
                    node[key] = max(1, min(value, MAX_STEP))
            else:
                _clamp_sizes(value)
    elif isinstance(node, list):
        for value in node:
            _clamp_sizes(value)


def _find_url(node: Any, path: str) -> str | None:
    """The path of the first `url` key (data, images, links), or None."""
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}" if path else str(key)
            if key == "url":
                return where
            found = _find_url(value, where)
            if found is not None:
                return found
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found = _find_url(value, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return " ".join(lines[:2])[:300] or type(error).__name__
