"""Series that are not records: [time, value] pairs (Prometheus `query_range`, CoinGecko
`market_chart`, Datadog `pointlist`; alone or one list per series), parallel lists
(`{"timestamps": [...], "values": [...]}`) and objects keyed by date (Mixpanel)."""

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from orbit_dagster.transformers.builtin.fields import (
    DATE_NAMES,
    GENERIC_VALUE_NAMES,
    MAX_DEPTH,
    SAMPLE_RECORDS,
    addressable,
    distinguishing_labels,
    field_at,
    is_date_value,
    is_identifier_name,
    is_listed_time,
    mostly_numeric,
    rank_of,
    record_fields,
    sounds_like_time,
)
from orbit_dagster.transformers.builtin.runtime import sample_number
from orbit_dagster.transformers.builtin.series import (
    Constant,
    Found,
    Series,
    as_list,
    get_path,
    where,
)


def are_pairs(items: list[Any]) -> bool:
    """Mostly [time, number, ...] lists (a time is an epoch number or ISO text)."""
    return _mostly(items, lambda second: sample_number(second) is not None)


def are_timed_texts(items: list[Any]) -> bool:
    """Mostly [time, text] lists: events, such as Loki's log lines, to count."""
    return _mostly(items, lambda second: isinstance(second, str) and sample_number(second) is None)


def _mostly(items: list[Any], second_fits: Any) -> bool:
    fitting = sum(
        isinstance(item, list)
        and len(item) >= 2
        and is_listed_time(item[0])
        and second_fits(item[1])
        for item in items
    )
    return fitting > 0 and fitting * 2 >= len(items)


def pairs_per_series(path: str, items: list[Any], hints: dict[str, str]) -> Found:
    """Series objects that each hold a list of pairs (Prometheus `values`, Datadog
    `pointlist`), labelled by the text fields that tell them apart."""
    sample = [item for item in items[:SAMPLE_RECORDS] if isinstance(item, dict)]
    kinds = {
        key: are_pairs(found) or ("counted" if are_timed_texts(found) else False)
        for key in dict.fromkeys(key for item in sample for key in item)
        if addressable(key)
        for found in [[pair for item in sample for pair in as_list(item.get(key))]]
    }
    keys = [key for key, kind in kinds.items() if kind]
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
    return pairs(path, keys[0], size, dimensions, hints, counted=kinds[keys[0]] == "counted")


def pairs(
    series_path: str | None,
    pairs_path: str,
    size: int,
    dimensions: tuple[str, ...],
    hints: dict[str, str],
    counted: bool = False,
) -> Found:
    """Pairs in one list (SERIES_PATH None) or in a list at PAIRS_PATH of each series;
    `counted` pairs ([time, log line]) count 1 each."""
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
        ("COUNT_PAIRS", counted, "True: each pair counts 1 (its second item is not a number)"),
    )
    place = series_path if series_path is not None else pairs_path
    found_series, reason = _valued(
        "pairs", f"Reads {found}{by}.", constants, size, hints, place, groupable=bool(series_path)
    )
    if found_series is not None and counted:
        found_series = replace(
            found_series,
            counts=True,
            aggregation="count",
            hints=(*found_series.hints, ("aggregation", "count")),
        )
    return found_series, reason


def parallel_per_series(
    path: str, items: list[Any], hints: dict[str, str], payload: Any
) -> Iterator[Found]:
    """Series objects that each hold a list of times and lists of values of the same length
    (VictoriaMetrics' export `timestamps` and `values`), or only the values beside one list of
    times for all (Sentry's `intervals` beside `groups`), labelled by the text fields that tell
    them apart."""
    sample = [item for item in items[:SAMPLE_RECORDS] if isinstance(item, dict)]
    if len(sample) < len(items[:SAMPLE_RECORDS]) or not sample:
        return
    lists = [dict(_scalar_lists(item, "", 0)) for item in sample]
    shared = [key for key in lists[0] if all(key in found for found in lists)]
    dates = hints.get("date_path") or next(
        (
            key
            for key in _time_named_first(shared)
            if all(all(map(is_listed_time, found[key])) for found in lists)
        ),
        None,
    )
    in_series = dates in shared
    if not in_series:
        dates = _times_beside(payload, path)
        if dates is None:
            return
    assert dates is not None  # a shared key, or the list found beside them
    times = [found[dates] if in_series else get_path(payload, dates) for found in lists]
    size = sum(len(found) for found in times)
    labels = record_fields([{k: v for k, v in item.items() if k not in shared} for item in sample])
    dimensions = (
        [hints["group_by"]] if "group_by" in hints else distinguishing_labels(labels, len(sample))
    )
    for values in shared:
        if values == dates or hints.get("value_path", values) != values:
            continue
        if not all(
            len(found[values]) == len(dated)
            and mostly_numeric([v for v in found[values] if v is not None], len(dated))
            for found, dated in zip(lists, times, strict=True)
        ):
            continue
        by = f", one series per {', '.join(dimensions)}" if dimensions else ""
        summary = (
            f"Reads the times at {dates!r} and the values at {values!r}, in step, of each series "
            f"at {where(path)}{by}."
        )
        constants = (
            ("SERIES_PATH", path, "the list of series"),
            ("DATES_PATH", dates, "in each series" if in_series else "one list for all series"),
            ("DATES_IN_SERIES", in_series, "False: DATES_PATH is in the payload"),
            ("VALUES_PATH", values, "in each series"),
            ("DIMENSIONS", dimensions, "series fields whose values become dimensions"),
        )
        yield _valued(
            "parallel",
            summary,
            constants,
            size,
            hints,
            path,
            values,
            _standing(values),
            True,
        )


def parallel(path: str, node: dict, hints: dict[str, str]) -> Iterator[Found]:
    """A list of times in an object and lists of values of the same length beside it or below
    it: one series per list of values (Open-Meteo's `daily.time` beside `temperature_2m_max`;
    Yahoo's `timestamp` above `indicators.quote.0.close`; Amplitude's `xValues` beside
    `series.0`)."""
    lists = dict(_scalar_lists(node, f"{path}." if path else "", 0))
    dates = hints.get("date_path")
    if dates is None:
        dates = next(
            (
                p
                for p in _time_named_first(list(lists))
                if "." not in p[len(path) + 1 if path else 0 :]
                and all(map(is_listed_time, lists[p]))
            ),
            None,
        )
    if dates not in lists:
        return
    size = len(lists[dates])
    numeric = [
        found
        for found, items in lists.items()
        if found != dates
        and len(items) == size
        and mostly_numeric([item for item in items if item is not None], size)
        and not is_identifier_name(_own_name(found))
        and found == hints.get("value_path", found)
    ]
    if not numeric:
        yield None, f"the {size} dates at '{dates}' have no list of values beside them"
    for values in numeric:
        summary = f"Reads the dates at {dates!r} and the values at {values!r}, in step."
        constants = (
            ("SERIES_PATH", None, "None: the lists are in the payload"),
            ("DATES_PATH", dates, ""),
            ("DATES_IN_SERIES", True, ""),
            ("VALUES_PATH", values, ""),
        )
        yield _valued(
            "parallel", summary, constants, size, hints, path, values, _standing(_own_name(values))
        )


def _times_beside(payload: Any, path: str) -> str | None:
    """The path of a list of times in the object that holds the list of series at `path`."""
    if not path:
        return None
    parent = path.rsplit(".", 1)[0] if "." in path else ""
    holder = get_path(payload, parent)
    if not isinstance(holder, dict):
        return None
    prefix = f"{parent}." if parent else ""
    for key in _time_named_first([key for key in holder if addressable(key)]):
        found = holder[key]
        if isinstance(found, list) and len(found) >= 2 and all(map(is_listed_time, found)):
            return prefix + key
    return None


def _time_named_first(paths: list[str]) -> list[str]:
    """`paths` with those named like times first: epoch-sized numbers ("values": 2147483648
    bytes) are times only when nothing named a time says otherwise."""

    def named_like_time(path: str) -> bool:
        name = _own_name(path)
        return sounds_like_time(name) or rank_of(name, DATE_NAMES) is not None

    return sorted(paths, key=lambda path: not named_like_time(path))


def _scalar_lists(node: Any, prefix: str, depth: int) -> Iterator[tuple[str, list[Any]]]:
    """(path, list) of the lists of at least two scalars in `node`, through objects and lists
    of one (Yahoo's `quote: [{...}]`), up to MAX_DEPTH deep."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        key = str(key)
        if not key.isdigit() and not addressable(key):
            continue
        if (
            isinstance(value, list)
            and len(value) >= 2
            and not any(isinstance(item, dict | list) for item in value)
        ):
            yield prefix + key, value
        elif depth < MAX_DEPTH and (
            isinstance(value, dict) or (isinstance(value, list) and len(value) == 1)
        ):
            yield from _scalar_lists(value, f"{prefix}{key}.", depth + 1)


def _own_name(path: str) -> str:
    return next((part for part in reversed(path.split(".")) if not part.isdigit()), path)


def mapping(path: str, node: dict, hints: dict[str, str], payload: Any) -> Iterator[Found]:
    """An object keyed by dates (of numbers, or of objects holding numbers: Alpha Vantage's
    "Time Series (Daily)", Frankfurter's `rates`; of lists of events, NASA NeoWs; of positions
    in a list of values, JSON-stat), or an object of such objects (one series per key,
    Mixpanel)."""
    if _keyed_by_date(node):
        series_dimension, size, by_date = None, len(node), node
        if any(isinstance(value, list) for value in node.values()):
            size = sum(len(value) for value in node.values() if isinstance(value, list))
    elif len(node) > 1 and all(
        isinstance(inner, dict) and _keyed_by_date(inner) for inner in node.values()
    ):
        # One series per key; a single key is found as a place of its own.
        series_dimension = "series"
        size = sum(len(inner) for inner in node.values())
        by_date = next(iter(node.values()))
    else:
        return
    where_ = where(path) + (", one series per key" if series_dimension else "")
    constants = (
        ("MAPPING_PATH", path, ""),
        ("SERIES_DIMENSION", series_dimension, "None: the dates are the object's own keys"),
    )
    if any(isinstance(value, list) for value in by_date.values()):
        # Lists of events under each date (NASA NeoWs `near_earth_objects`): counted per date.
        summary = f"Counts the items listed under each date key of the object at {where_}."
        constants += (("VALUE_KEY", None, ""), ("VALUES_BY_POSITION_PATH", None, ""))
        found, _ = _valued("mapping", summary, constants, size, hints, path)
        yield (replace(found, counts=True, aggregation="sum") if found else None), ""
        return
    inner = [value for value in by_date.values() if isinstance(value, dict)]
    if not inner:
        positions = None
        if _are_positions(list(by_date.values())):
            # 0, 1, 2, ... are places in a list of values (JSON-stat's `category.index`).
            positions = _values_by_position(payload, path, len(by_date))
            if positions is None:
                yield None, f"the date keys at {where(path)} map to positions, not values"
                return
        summary = f"Reads the objects keyed by date at {where_}" + (
            f", each value at its position in {positions!r}." if positions else "."
        )
        constants += (
            ("VALUE_KEY", None, ""),
            ("VALUES_BY_POSITION_PATH", positions, "None: the date keys map to the values"),
        )
        yield _valued("mapping", summary, constants, size, hints, path)
        return
    keys = dict.fromkeys(key for value in inner for key in value)
    for key in keys:
        values = [value.get(key) for value in inner]
        if hints.get("value_path", key) != key or not mostly_numeric(values, len(inner)):
            continue
        summary = f"Reads the value at {key!r} of each date key of the object at {where_}."
        yield _valued(
            "mapping",
            summary,
            (
                *constants,
                ("VALUE_KEY", key, "the value's key in the object of each date"),
                ("VALUES_BY_POSITION_PATH", None, ""),
            ),
            size,
            hints,
            path,
            key,
            _standing(key),
        )


def _are_positions(values: list[Any]) -> bool:
    numbers = [sample_number(value) for value in values]
    return len(numbers) > 1 and sorted(numbers) == list(range(len(numbers)))  # type: ignore[arg-type]


def _values_by_position(payload: Any, path: str, count: int) -> str | None:
    """The `value` (or `values`) list or object of `count` numbers beside an ancestor of
    `path`: where JSON-stat keeps the values its index points into."""
    parts = path.split(".")
    for depth in range(len(parts) - 1, -1, -1):
        for key in ("value", "values"):
            candidate = ".".join([*parts[:depth], key])
            found = get_path(payload, candidate)
            if isinstance(found, list | dict) and len(found) == count:
                return candidate
    return None


def _keyed_by_date(node: dict) -> bool:
    dated = sum(
        is_date_value(key, by_name=False)
        and (sample_number(value) is not None or isinstance(value, dict | list))
        for key, value in node.items()
    )
    return dated > 0 and dated * 2 >= len(node)


def _standing(path: str) -> tuple[int, int]:
    """How plainly a name alone makes a list or key the value (see `Series.standing`)."""
    rank = rank_of(path.rsplit(".", 1)[-1], GENERIC_VALUE_NAMES)
    return (1, 0) if rank is None else (0, rank)


def _valued(
    shape: str,
    summary: str,
    constants: tuple[Constant, ...],
    size: int,
    hints: dict[str, str],
    place: str,
    measure: str | None = None,
    standing: tuple[int, int] = (1, 0),
    groupable: bool = False,
) -> Found:
    """A series of measured values (the chooser settles aggregation and granularity)."""
    if "group_by" in hints and not groupable:
        return None, f"a series of {shape} has no field '{hints['group_by']}' to group by"
    selects = [("records_path", place)] if place and shape in ("pairs", "mapping") else []
    if measure is not None:
        selects.append(("value_path", measure))
    return Series(
        shape,
        summary,
        constants,
        None,
        None,
        size,
        place=place,
        measure=measure,
        standing=standing,
        hints=tuple(selects),
    ), ""
