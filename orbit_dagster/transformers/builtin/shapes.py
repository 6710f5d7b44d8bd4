"""Finding the series in a payload, whatever shape the API gave it.

Shapes: records (a list of objects with a date field), a table (a list of rows under a header
row, as Google Sheets and CSV exports), [time, value] pairs (Prometheus `query_range`,
CoinGecko `market_chart`, Datadog `pointlist`, alone or one list per series), parallel lists
(`{"timestamps": [...], "values": [...]}`), objects keyed by date (Mixpanel), and, when none
of those is there, a snapshot: one number recorded at the time of each run.

The shapes are found by `tabular` and `sequences`. Every place in the payload is tried (objects
up to MAX_DEPTH deep) and the series with the most entries wins; each place that has none
says why, which is what GenerationError reports.
"""

from collections.abc import Iterator
from typing import Any

from orbit_dagster.transformers.builtin import sequences, tabular
from orbit_dagster.transformers.builtin.fields import (
    MAX_DEPTH,
    SAMPLE_RECORDS,
    addressable,
    choose_value,
    field_at,
    in_list,
    is_identifier_name,
    mostly_numeric,
    record_fields,
)
from orbit_dagster.transformers.builtin.runtime import sample_number
from orbit_dagster.transformers.builtin.series import Found, Series, get_path, where
from orbit_dagster.transformers.errors import GenerationError


def find_series(payload: Any, hints: dict[str, str]) -> Series:
    """The series with the most entries, else a snapshot; GenerationError saying what was found."""
    if "records_path" in hints:
        found = get_path(payload, hints["records_path"])
        if not isinstance(found, list) or not found:
            raise GenerationError(
                f"hint records_path '{hints['records_path']}' does not lead to a non-empty list"
            )
        places = [(hints["records_path"], found)]
    else:
        places = list(_places(payload, "", 0))
    found_series, reasons = [], []
    for path, node in places:
        for series, reason in _series_at(path, node, hints):
            if series is not None:
                found_series.append(series)
            elif reason:
                reasons.append(reason)
    if found_series:
        # max() keeps the first of equal sizes: the one earliest in the payload.
        return max(found_series, key=lambda series: series.size)
    return _snapshot(payload, hints, reasons)


def _places(node: Any, path: str, depth: int) -> Iterator[tuple[str, Any]]:
    """(path, node) of the payload and of every object and list inside objects."""
    yield path, node
    if isinstance(node, dict) and depth < MAX_DEPTH:
        for key, value in node.items():
            if addressable(key) and isinstance(value, dict | list):
                yield from _places(value, f"{path}.{key}" if path else key, depth + 1)


def _series_at(path: str, node: Any, hints: dict[str, str]) -> Iterator[Found]:
    """(Series, "") or (None, reason) for each shape that could be at this place."""
    names_a_field = "date_path" in hints or "value_path" in hints
    if isinstance(node, list) and node:
        sample = node[:SAMPLE_RECORDS]
        header = tabular.table_header(node)
        if header is not None:
            yield tabular.table(path, node, header, hints)
        elif sum(isinstance(item, dict) for item in sample) * 2 >= len(sample):
            yield tabular.records(path, node, hints)
            if not names_a_field:
                yield sequences.pairs_per_series(path, node, hints)
        elif all(isinstance(item, list) for item in sample):
            if not names_a_field and sequences.are_pairs(sample):
                yield sequences.pairs(None, path, len(node), (), hints)
            else:
                yield None, f"the {len(node)} rows at {where(path)} have no header row"
    elif isinstance(node, dict):
        if not names_a_field:
            yield sequences.mapping(path, node, hints)
        yield sequences.parallel(path, node, hints)


# -- snapshot -------------------------------------------------------------------------------


def _snapshot(payload: Any, hints: dict[str, str], reasons: list[str]) -> Series:
    """The number to record at each run, from an object that has no dated series."""
    # A number inside a list is one of many, not the payload's current value.
    fields = [
        field
        for field in (record_fields([payload]) if isinstance(payload, dict) else [])
        if not in_list(field.path)
    ]
    path = None
    if "value_path" in hints:
        found = field_at([payload], hints["value_path"]).values
        path = hints["value_path"] if found and sample_number(found[0]) is not None else None
    elif fields:
        path = choose_value(fields, 1, set()) or next(
            (
                field.path
                for field in fields
                if not is_identifier_name(field.name)
                and field.values
                and all(isinstance(value, int | float) for value in field.values)
                and mostly_numeric(field.values, 1)
            ),
            None,
        )
    # A snapshot is the fallback for an object; a hinted date or list asks for a real series.
    if path is None or "date_path" in hints or "records_path" in hints:
        found = "; ".join(reasons) or "no list of records with a date-like field"
        if isinstance(payload, dict) and path is None:
            numeric = (
                f"no numbers at '{hints['value_path']}'"
                if "value_path" in hints
                else "no numeric field"
            )
            found += f" and {numeric}"
        raise GenerationError(
            f"no time series found in the payload: {_describe_top(payload)}; {found}"
        )
    summary = (
        "The sample has no dated series, so each run records the number at "
        f"{path!r} as one point dated at the time of the run."
    )
    return Series("snapshot", summary, (("VALUE_PATH", path, ""),), "last", None, 1)


# -- describing what was found --------------------------------------------------------------


def _describe_top(payload: Any) -> str:
    if isinstance(payload, dict):
        shown = [repr(key) for key in list(payload)[:10]] + (["..."] if len(payload) > 10 else [])
        return f"top level is an object with keys [{', '.join(shown)}]"
    if isinstance(payload, list):
        kinds = sorted({_kind(item) + "s" for item in payload[:SAMPLE_RECORDS]})
        return f"top level is a list of {len(payload)} items ({', '.join(kinds)})"
    kind = _kind(payload)
    if kind == "null":
        return "top level is null"
    return f"top level is {'an' if kind[0] in 'aeiou' else 'a'} {kind}"


def _kind(value: Any) -> str:
    """The JSON type of a value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "list" if isinstance(value, list) else "object"
