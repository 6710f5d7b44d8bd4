"""Hints: optional metric config keys that steer the built-in generator on ambiguous payloads."""

from collections.abc import Mapping
from typing import Any

from orbit_dagster.transformers.errors import GenerationError

AGGREGATIONS = ("count", "sum", "avg", "last", "max", "min")
GRANULARITIES = ("hour", "day", "week", "month")
HINT_KEYS = (
    "records_path",
    "date_path",
    "value_path",
    "value_column",
    "group_by",
    "aggregation",
    "granularity",
)


def check_hints(hints: Mapping[str, Any]) -> dict[str, str]:
    """The non-empty hints, stripped; GenerationError for unknown keys or values."""
    unknown = sorted(set(hints) - set(HINT_KEYS))
    if unknown:
        raise GenerationError(
            f"unknown hint(s) {', '.join(unknown)}; known hints: {', '.join(HINT_KEYS)}"
        )
    checked = {}
    for key, value in hints.items():
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise GenerationError(f"hint {key} must be a string, got {value!r:.100}")
        checked[key] = value.strip()
    if "value_column" in checked:
        if checked.setdefault("value_path", checked["value_column"]) != checked["value_column"]:
            raise GenerationError("hints value_path and value_column disagree; give one")
    for key, allowed in (("aggregation", AGGREGATIONS), ("granularity", GRANULARITIES)):
        if key in checked and checked[key] not in allowed:
            raise GenerationError(
                f"hint {key} must be one of {', '.join(allowed)}, got {checked[key]!r}"
            )
    return checked
