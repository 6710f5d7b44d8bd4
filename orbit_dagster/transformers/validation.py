"""Validation of transformer output: ingestion points are checked and normalised, chart specs
are checked. Every rejection is a `TransformerError` that names the offending item and field.
"""

import datetime as dt
import json
import math
from collections.abc import Mapping
from numbers import Real
from typing import Any

from dateutil.parser import isoparse

from orbit_dagster.transformers.errors import TransformerError

# Epoch numbers at or above this are milliseconds: 1e11 seconds is the year 5138, while 1e11
# milliseconds is 1973, so real timestamps fall clearly on one side or the other.
EPOCH_MILLISECONDS_FROM = 100_000_000_000

POINT_KEYS = ("date", "value", "dimensions")
# Top-level keys of a Vega-Lite spec that say what to draw: a mark, or a composition of views.
CHART_VIEW_KEYS = ("mark", "layer", "concat", "hconcat", "vconcat", "facet", "repeat")


def validate_ingestion_report(
    output: Any, *, max_points: int
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The points and the skipped-entry counts of an ingestion transformer's output.

    A transformer returns a list of points, or `{"points": [...], "skipped": {reason: count}}`
    to also report the entries it skipped (the built-in generator's code does).
    """
    if isinstance(output, Mapping) and "points" in output:
        unexpected = [key for key in output if key not in ("points", "skipped")]
        if unexpected:
            raise TransformerError(
                f"invalid output: unexpected keys {unexpected!r:.200} beside points and skipped"
            )
        return (
            validate_ingestion_output(output["points"], max_points=max_points),
            _validate_skipped(output.get("skipped")),
        )
    return validate_ingestion_output(output, max_points=max_points), {}


def validate_ingestion_output(output: Any, *, max_points: int) -> list[dict[str, Any]]:
    """Points as `{"date": "YYYY-MM-DDTHH:MM:SSZ", "value": float, "dimensions": dict | None}`."""
    if not isinstance(output, list):
        raise TransformerError(
            "invalid output: an ingestion transformer must return a list of points, "
            f"got {_describe(output)}"
        )
    if len(output) > max_points:
        raise TransformerError(
            f"invalid output: {len(output):,} points is more than the limit of {max_points:,}"
        )
    return [_validate_point(index, item) for index, item in enumerate(output)]


def validate_chart_output(output: Any, *, max_bytes: int) -> dict[str, Any]:
    """A Vega-Lite spec: a JSON object with a vega-lite `$schema` and something to draw."""
    if not isinstance(output, dict):
        raise TransformerError(
            f"invalid chart spec: a chart transformer must return a dict, got {_describe(output)}"
        )
    try:
        size = len(json.dumps(output, allow_nan=False).encode())
    except (TypeError, ValueError, RecursionError) as exc:
        raise TransformerError(f"invalid chart spec: not JSON-serialisable ({exc})") from None
    if size > max_bytes:
        raise TransformerError(
            f"invalid chart spec: {size:,} bytes is more than the limit of {max_bytes:,}"
        )
    schema = output.get("$schema")
    if not isinstance(schema, str) or "vega-lite" not in schema:
        raise TransformerError(
            f"invalid chart spec: '$schema' must be a Vega-Lite schema URL, got {schema!r:.100}"
        )
    if not any(key in output for key in CHART_VIEW_KEYS):
        raise TransformerError(
            f"invalid chart spec: it needs one of the keys {', '.join(CHART_VIEW_KEYS)}"
        )
    return output


def parse_date(raw: Any) -> dt.datetime:
    """An aware UTC datetime from an ISO-8601 string, a date/datetime, or epoch s/ms.

    Naive values are taken as UTC. Raises ValueError when `raw` is not a date.
    """
    if isinstance(raw, bool):
        raise ValueError("a boolean is not a date")
    if isinstance(raw, dt.datetime):
        moment = raw
    elif isinstance(raw, dt.date):
        moment = dt.datetime(raw.year, raw.month, raw.day)
    elif isinstance(raw, Real):
        # float() inside the try: an int too large for a float is out of range like any other.
        try:
            seconds = float(raw)
            if abs(seconds) >= EPOCH_MILLISECONDS_FROM:
                seconds /= 1000
            return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"epoch time {raw!r} is out of range") from None
    elif isinstance(raw, str):
        moment = _parse_iso(raw.strip())
    else:
        raise ValueError(f"{_describe(raw)} is not a date")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def format_date(moment: dt.datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SSZ` for an aware datetime (sub-second precision is dropped)."""
    utc = moment.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)
    return utc.isoformat() + "Z"


def _parse_iso(text: str) -> dt.datetime:
    # The standard library's fromisoformat (3.11+) reads nearly all of ISO 8601, including "Z";
    # dateutil's isoparse, a well-kept strict ISO parser, adds the reduced-precision forms APIs
    # use for monthly data ("2026-10"). Neither guesses at free text the way dateutil.parse
    # does, so "N/A" or "3" is rejected instead of becoming some date this month.
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        return isoparse(text)
    except (ValueError, OverflowError):
        raise ValueError(f"{text!r:.100} is not an ISO-8601 date") from None


def _validate_skipped(raw: Any) -> dict[str, int]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping) or len(raw) > 100:
        raise TransformerError(
            "invalid output: 'skipped' must be a dict of at most 100 reasons to counts, "
            f"got {_describe(raw)}"
        )
    skipped = {}
    for reason, count in raw.items():
        if not isinstance(reason, str) or isinstance(count, bool) or not isinstance(count, int):
            raise TransformerError(
                f"invalid output: 'skipped' must map reasons to counts, got {reason!r:.100}: "
                f"{count!r:.100}"
            )
        if count < 0:
            raise TransformerError(f"invalid output: skipped count {count} is negative")
        skipped[reason[:200]] = count
    return skipped


def _validate_point(index: int, item: Any) -> dict[str, Any]:
    where = f"invalid output at index {index}"
    if not isinstance(item, Mapping):
        raise TransformerError(
            f"{where}: each point must be a dict with date, value and dimensions, "
            f"got {_describe(item)}"
        )
    unexpected = [key for key in item if key not in POINT_KEYS]
    if unexpected:
        raise TransformerError(
            f"{where}: unexpected keys {unexpected!r:.200}; a point has only "
            f"{', '.join(POINT_KEYS)}"
        )
    for key in ("date", "value"):
        if item.get(key) is None:
            raise TransformerError(f"{where}: '{key}' is missing")
    try:
        date = format_date(parse_date(item["date"]))
    except ValueError as exc:
        raise TransformerError(f"{where}: 'date' is not a date: {exc}") from None
    return {
        "date": date,
        "value": _validate_value(where, item["value"]),
        "dimensions": _validate_dimensions(where, item.get("dimensions")),
    }


def _validate_value(where: str, raw: Any) -> float:
    if isinstance(raw, bool):
        raise TransformerError(f"{where}: 'value' must be a number, got a boolean ({raw})")
    if isinstance(raw, Real):
        number = _to_float(raw)
    elif isinstance(raw, str):
        try:
            number = float(raw)
        except ValueError:
            raise TransformerError(
                f"{where}: 'value' must be a number, got the string {raw!r:.100}"
            ) from None
    else:
        raise TransformerError(f"{where}: 'value' must be a number, got {_describe(raw)}")
    if not math.isfinite(number):
        raise TransformerError(f"{where}: 'value' must be a finite number, got {raw!r:.100}")
    return number


def _to_float(number: Real) -> float:
    try:
        return float(number)
    except OverflowError:
        # An int too large for a float; it is reported as not finite.
        return math.inf


def _validate_dimensions(where: str, raw: Any) -> dict[str, str] | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise TransformerError(
            f"{where}: 'dimensions' must be a dict of names to strings, got {_describe(raw)}"
        )
    dimensions = {}
    for key, label in raw.items():
        if not isinstance(key, str):
            raise TransformerError(f"{where}: dimension names must be strings, got {key!r:.100}")
        dimensions[key] = _dimension_label(where, key, label)
    # No dimensions and empty dimensions name the same series; None is the one spelling.
    return dimensions or None


def _dimension_label(where: str, key: str, label: Any) -> str:
    if isinstance(label, str):
        return label
    if isinstance(label, bool):
        return "true" if label else "false"
    if isinstance(label, Real):
        return str(label)
    raise TransformerError(
        f"{where}: dimension '{key}' must be a string or a number, got {_describe(label)}"
    )


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    return type(value).__name__
