"""Series that are not records: [time, value] pairs (Prometheus `query_range`, CoinGecko
`market_chart`, Datadog `pointlist`; alone or one list per series), parallel lists
(`{"timestamps": [...], "values": [...]}`) and objects keyed by date (Mixpanel)."""

from typing import Any

from orbit_dagster.transformers.builtin.fields import (
    SAMPLE_RECORDS,
    addressable,
    distinguishing_labels,
    field_at,
    is_date_value,
    is_epoch,
    is_identifier_name,
    mostly_numeric,
    record_fields,
)
from orbit_dagster.transformers.builtin.runtime import sample_number
from orbit_dagster.transformers.builtin.series import Constant, Found, Series, as_list, where


def are_pairs(items: list[Any]) -> bool:
    """Mostly [time, number, ...] lists (a time is an epoch number or ISO text)."""
    pairs = sum(
        isinstance(item, list)
        and len(item) >= 2
        and (is_epoch(item[0]) or is_date_value(item[0], by_name=False))
        and sample_number(item[1]) is not None
        for item in items
    )
    return pairs > 0 and pairs * 2 >= len(items)


def pairs_per_series(path: str, items: list[Any], hints: dict[str, str]) -> Found:
    """Series objects that each hold a list of pairs (Prometheus `values`, Datadog
    `pointlist`), labelled by the text fields that tell them apart."""
    sample = [item for item in items[:SAMPLE_RECORDS] if isinstance(item, dict)]
    keys = [
        key
        for key in dict.fromkeys(key for item in sample for key in item)
        if addressable(key)
        and are_pairs([pair for item in sample for pair in as_list(item.get(key))])
    ]
    if not keys:
        return None, ""
    size = sum(len(as_list(item.get(keys[0]))) for item in items if isinstance(item, dict))
    # The labels of a series are its other fields (the pairs are data, not labels).
    labels = record_fields([{k: v for k, v in item.items() if k != keys[0]} for item in sample])
    if "group_by" in hints:
        dimensions = (hints["group_by"],)
        if not field_at(sample, hints["group_by"]).values:
            return None, f"the series at {where(path)} have no field '{hints['group_by']}'"
    else:
        dimensions = tuple(distinguishing_labels(labels, len(sample)))
    return pairs(path, keys[0], size, dimensions, hints)


def pairs(
    series_path: str | None,
    pairs_path: str,
    size: int,
    dimensions: tuple[str, ...],
    hints: dict[str, str],
) -> Found:
    """Pairs in one list (SERIES_PATH None) or in a list at PAIRS_PATH of each series."""
    if series_path is None:
        found = f"the {size} [time, value] pairs at {where(pairs_path)}"
    else:
        found = f"the {size} [time, value] pairs at '{pairs_path}' of each series at " + (
            where(series_path)
        )
    by = f", one series per {', '.join(dimensions)}" if dimensions else ""
    constants = (
        ("SERIES_PATH", series_path, "the list of series; None: the pairs are in the payload"),
        ("PAIRS_PATH", pairs_path, "[time, value] lists, in the payload or in each series"),
        ("DIMENSIONS", list(dimensions), "series fields whose values become dimensions"),
    )
    return _valued("pairs", f"Reads {found}{by}.", constants, size, hints, bool(series_path))


def parallel(path: str, node: dict, hints: dict[str, str]) -> Found:
    """Two lists of the same length in one object: times and values."""
    lists = {
        f"{path}.{key}" if path else key: value
        for key, value in node.items()
        if addressable(key)
        and isinstance(value, list)
        and len(value) >= 2
        and not any(isinstance(item, dict | list) for item in value)
    }
    dates = hints.get("date_path")
    if dates is None:
        dates = next((p for p, items in lists.items() if all(map(_listed_date, items))), None)
    if dates not in lists:
        return None, ""
    size = len(lists[dates])
    numeric = [
        found
        for found, items in lists.items()
        if found != dates
        and len(items) == size
        and mostly_numeric([item for item in items if item is not None], size)
        and not is_identifier_name(found.rsplit(".", 1)[-1])
        and found == hints.get("value_path", found)
    ]
    if not numeric:
        return None, f"the {size} dates at '{dates}' have no list of values beside them"
    summary = f"Reads the dates at {dates!r} and the values at {numeric[0]!r}, in step."
    constants = (("DATES_PATH", dates, ""), ("VALUES_PATH", numeric[0], ""))
    return _valued("parallel", summary, constants, size, hints)


def _listed_date(value: Any) -> bool:
    return is_epoch(value) or is_date_value(value, by_name=False)


def mapping(path: str, node: dict, hints: dict[str, str]) -> Found:
    """An object keyed by dates, or an object of such objects (one series per key)."""
    if _keyed_by_date(node):
        series_dimension, size = None, len(node)
    elif node and all(isinstance(inner, dict) and _keyed_by_date(inner) for inner in node.values()):
        series_dimension, size = "series", sum(len(inner) for inner in node.values())
    else:
        return None, ""
    summary = f"Reads the objects keyed by date at {where(path)}" + (
        ", one series per key." if series_dimension else "."
    )
    constants = (
        ("MAPPING_PATH", path, ""),
        ("SERIES_DIMENSION", series_dimension, "None: the dates are the object's own keys"),
    )
    return _valued("mapping", summary, constants, size, hints)


def _keyed_by_date(node: dict) -> bool:
    dated = sum(
        is_date_value(key, by_name=False) and sample_number(value) is not None
        for key, value in node.items()
    )
    return dated > 0 and dated * 2 >= len(node)


def _valued(
    shape: str,
    summary: str,
    constants: tuple[Constant, ...],
    size: int,
    hints: dict[str, str],
    groupable: bool = False,
) -> Found:
    """A series of measured values: summed per period when a granularity is hinted."""
    if "group_by" in hints and not groupable:
        return None, f"a series of {shape} has no field '{hints['group_by']}' to group by"
    aggregation = hints.get("aggregation") or "sum"
    return Series(shape, summary, constants, aggregation, hints.get("granularity"), size), ""
