"""Finding the series in a payload, whatever shape the API gave it.

Shapes: records (a list of objects with a date field, or rows read by position), a table (rows
under a header row, as Google Sheets and CSV exports, or beside a list of column names),
[time, value] pairs (Prometheus `query_range`, CoinGecko `market_chart`, Datadog `pointlist`,
alone or one list per series), parallel lists (`{"time": [...], "temperature": [...]}`),
objects keyed by date (Mixpanel, Alpha Vantage), and, when none of those is there, a snapshot:
one number recorded at the time of each run.

The shapes are found by `tabular` and `sequences`. Every place in the payload is tried (objects
up to PLACE_DEPTH deep, and the items of short lists) and every series found is returned, for
`choice` to choose among; each place that has none says why, which is what GenerationError
reports.
"""

from collections.abc import Iterator
from typing import Any

from orbit_dagster.transformers.builtin import sequences, tabular
from orbit_dagster.transformers.builtin.fields import (
    SAMPLE_RECORDS,
    addressable,
    field_at,
    in_list,
    is_number_like,
    record_fields,
    value_fields,
)
from orbit_dagster.transformers.builtin.intent import SILENT, Intent
from orbit_dagster.transformers.builtin.series import Series, get_path, where
from orbit_dagster.transformers.errors import GenerationError

# A short list whose items are objects or lists may give each item its own role (World Bank's
# [metadata, records]) or wrap one object (GraphQL's `zones: [{...}]`): its items are searched
# as places of their own.
ROLE_LIST_ITEMS = 3
# GraphQL nests records deeply (`data.actor.account.nrql.results`): places are searched this
# deep, deeper than the fields of a record (MAX_DEPTH).
PLACE_DEPTH = 8


def find_series(payload: Any, hints: dict[str, str], intent: Intent = SILENT) -> list[Series]:
    """Every series in the payload that the hints allow, in the order found, else the numbers
    of a snapshot; GenerationError saying what was found when there is neither. The metric's
    `intent` names date fields and dimensions ("Merged MRs by author")."""
    if "records_path" in hints:
        found = get_path(payload, hints["records_path"])
        if not isinstance(found, list | dict) or not found:
            raise GenerationError(
                f"hint records_path '{hints['records_path']}' does not lead to a non-empty list"
                " or object"
            )
        places = [(hints["records_path"], found)]
    else:
        places = list(_places(payload, "", 0))
    found_series, reasons = [], []
    for path, node in places:
        for series, reason in _series_at(path, node, hints, intent, payload):
            if series is not None:
                found_series.append(series)
            elif reason:
                reasons.append(reason)
    return found_series or _snapshots(payload, hints, reasons)


def _places(node: Any, path: str, depth: int) -> Iterator[tuple[str, Any]]:
    """(path, node) of the payload and of every object and list inside objects, and inside
    short lists of objects and lists."""
    yield path, node
    if depth >= PLACE_DEPTH:
        return
    if isinstance(node, dict):
        children = [(key, value) for key, value in node.items() if addressable(key)]
    elif isinstance(node, list) and len(node) <= ROLE_LIST_ITEMS:
        children = [(str(index), value) for index, value in enumerate(node)]
    else:
        children = []
    if isinstance(node, list) and len(node) > 1:
        children += list(_grouped(node))
    for key, value in children:
        if isinstance(value, dict | list):
            yield from _places(value, f"{path}.{key}" if path else key, depth + 1)


def _grouped(items: list[Any]) -> Iterator[tuple[str, list[Any]]]:
    """("*.key", the lists at `key` of every item joined): records or pairs kept in groups
    (GitHub's contribution `weeks.*.contributionDays`, Loki's `result.*.values`)."""
    sample = items[:SAMPLE_RECORDS]
    if not all(isinstance(item, dict) for item in sample):
        return
    for key in sample[0]:
        if addressable(key) and all(isinstance(item.get(key), list) for item in sample):
            joined = [entry for item in items for entry in item.get(key) or []]
            if joined and all(isinstance(entry, dict | list) for entry in joined[:SAMPLE_RECORDS]):
                yield f"*.{key}", joined


def _series_at(
    path: str, node: Any, hints: dict[str, str], intent: Intent, payload: Any
) -> Iterator[tuple[Series | None, str]]:
    """(Series, "") or (None, reason) for each series that could be at this place."""
    names_a_field = "date_path" in hints or "value_path" in hints
    if isinstance(node, list) and node:
        sample = node[:SAMPLE_RECORDS]
        header = tabular.table_header(node)
        if header is not None:
            yield from tabular.table(path, node, header, None, hints, intent)
        elif sum(isinstance(item, dict) for item in sample) * 2 >= len(sample):
            yield from tabular.records(path, node, hints, intent)
            if not names_a_field:
                yield sequences.pairs_per_series(path, node, hints)
            yield from sequences.parallel_per_series(path, node, hints, payload)
        elif all(isinstance(item, list) for item in sample):
            pairs = sequences.are_pairs(sample)
            if pairs and not names_a_field and all(len(item) == 2 for item in sample):
                yield sequences.pairs(None, path, len(node), (), hints)
            elif not names_a_field and sequences.are_timed_texts(sample):
                yield sequences.pairs(None, path, len(node), (), hints, counted=True)
            elif pairs or _by_position(hints):
                # Wider rows (OHLC candles): each position is a candidate value.
                yield from tabular.records(path, node, hints)
            else:
                yield None, f"the {len(node)} rows at {where(path)} have no header row"
    elif isinstance(node, dict):
        if "date_path" not in hints:
            yield from sequences.mapping(path, node, hints, payload)
        yield from sequences.parallel(path, node, hints)
        yield from _table_beside_names(path, node, hints, intent)


def _by_position(hints: dict[str, str]) -> bool:
    """Whether the hints name positions in a row ("value_path": "1")."""
    named = [hints[key] for key in ("date_path", "value_path") if key in hints]
    return bool(named) and all(path.isdigit() for path in named)


def _table_beside_names(path: str, node: dict, hints: dict[str, str], intent: Intent) -> Iterator:
    """Rows beside a list of their column names (Nasdaq Data Link's `column_names` + `data`,
    pandas' split orient `columns` + `data`)."""
    lists = {key: value for key, value in node.items() if addressable(key)}
    for rows_key, rows in lists.items():
        if not (isinstance(rows, list) and rows and all(isinstance(r, list) for r in rows)):
            continue
        width = len(rows[0])
        for names_key, names in lists.items():
            header = tabular.column_names(names) if names_key != rows_key else None
            if header is not None and len(header) == width:
                prefix = f"{path}." if path else ""
                yield from tabular.table(prefix + rows_key, rows, header, prefix + names_key, hints)
                return


# -- snapshot -------------------------------------------------------------------------------


def _snapshots(payload: Any, hints: dict[str, str], reasons: list[str]) -> list[Series]:
    """The numbers that could be recorded at each run, from an object with no dated series."""
    # A number inside a list is one of many, not the payload's current value, unless the
    # list holds just one object (Stack Exchange wraps its one `info` object in `items`).
    fields = [
        field
        for field in (record_fields([payload]) if isinstance(payload, dict) else [])
        if not in_list(field.path) or _only_items(payload, field.path)
    ]
    if "value_path" in hints:
        found = field_at([payload], hints["value_path"]).values
        usable = found and is_number_like(found[0])
        numbers = [(hints["value_path"], (0, 0))] if usable else []
    else:
        numbers = value_fields(fields, 1, set())
    # A snapshot is the fallback for an object; a hinted date or list asks for a real series.
    if not numbers or "date_path" in hints or "records_path" in hints:
        found = "; ".join(reasons) or "no list of records with a date-like field"
        if isinstance(payload, dict) and not numbers:
            numeric = (
                f"no numbers at '{hints['value_path']}'"
                if "value_path" in hints
                else "no numeric field"
            )
            found += f" and {numeric}"
        raise GenerationError(
            f"no time series found in the payload: {_describe_top(payload)}; {found}"
        )
    return [
        Series(
            "snapshot",
            "The sample has no dated series, so each run records the number at "
            f"{path!r} as one point dated at the time of the run.",
            (("VALUE_PATH", path, ""),),
            "last",
            None,
            1,
            measure=path,
            standing=standing,
            hints=(("value_path", path),),
        )
        for path, standing in numbers
    ]


def _only_items(payload: Any, path: str) -> bool:
    """Whether every list that `path` goes through holds just one object."""
    parts = path.split(".")
    return all(
        len(get_path(payload, ".".join(parts[:index]))) == 1
        and isinstance(get_path(payload, ".".join(parts[: index + 1])), dict)
        for index, part in enumerate(parts)
        if part.isdigit()
    )


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
