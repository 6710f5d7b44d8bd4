"""Payload inspection: the scalar fields of records and which of them date or measure them.

A field is a dotted path to a scalar (`commit.author.date`, `metricValues.0.value`). Names
decide between candidates; values decide whether a field is a date or a number at all, judged
with the generated code's own `parse_date` and `to_number` (`runtime.sample_*`).
"""

import math
import re
from dataclasses import dataclass
from typing import Any

from orbit_dagster.transformers.builtin.intent import words_of
from orbit_dagster.transformers.builtin.matching import looks_like_identifier
from orbit_dagster.transformers.builtin.runtime import RUNTIME, sample_date, sample_number

# Records are searched this deep for fields, envelopes this deep for records.
MAX_DEPTH = 4
# Enough records to judge which fields are dates and numbers; the rest add nothing.
SAMPLE_RECORDS = 200
# Short lists inside a record (GA4's `metricValues`) are read by index up to this length.
INDEXED_ITEMS = 10

# Field names that say "this is the time", best first; compared lower-case without _ or -.
DATE_NAMES = (
    "date",
    "timestamp",
    "datetime",
    "time",
    "day",
    "ts",
    "dt",
    "period",
    "createdat",
    "created",
    "occurredat",
    "recordedat",
    "eventtime",
    "starttime",
    "start",
    "publishedat",
    "pubdate",
    "updatedat",
    "week",  # GitHub's commit activity: the epoch second each week starts
)
# Field names that say "this is the measurement" whatever is measured, best first (compared
# lower-case without _ or -). Names of what is measured ("visitors") are the intent's business.
GENERIC_VALUE_NAMES = (
    "value",
    "count",
    "total",
    "amount",
    "sum",
    "quantity",
    "qty",
    "score",
    "metric",
    "y",
    "avg",
    "average",
    "mean",
)
NON_FINITE_TEXT = ("nan", "inf", "infinity")
# The parts of a date spread over fields: names (compared like DATE_NAMES) and valid values.
DATE_PARTS = (
    (("year", "yr", "yyyy"), lambda value: _whole(value, 1, 9999)),
    # BLS names the month "period" ("M09"; "M13" is the year's average, not a month).
    (("month", "mon", "mo", "mm", "period"), lambda value: _month(value)),
    (("day", "dd", "dom", "dayofmonth"), lambda value: _whole(value, 1, 31)),
)
# Numbers that identify or place a record rather than measure it.
NOT_VALUE_NAMES = ("id", "pk", "uuid", "number", "index", "year", "month", "week", "hour")
NOT_VALUE_SUFFIX = re.compile(r"(_id|[a-z0-9]Id|_at)$")
# Epoch numbers are dates only in this range (2001 to 2096, in seconds), so a `time` of 12.5
# (a duration) is not mistaken for one.
EPOCH_SECONDS = (1e9, 4e9)
# Text that is a date by its look alone: ISO dates, also compact (GA4's "20261001").
ISO_DATE_START = re.compile(r"(19|20)\d\d(-\d\d-\d\d|(0[1-9]|1[0-2])\d\d$)")
# Period labels that are dates by their look: "2021-Q3", "2021Q3", "2021-W05", "2021-03",
# "2021M03", "Mar 2021" (a bare "2021" is a date only in a field named like one).
PERIOD_LABEL = re.compile(
    r"(19|20)\d\d(-?Q[1-4]|-?W[0-5]\d|-(0[1-9]|1[0-2])|M(0[1-9]|1[0-2]))$"
    r"|[A-Za-z]{3,9}\.? (19|20)\d\d$",
    re.I,
)


@dataclass(frozen=True)
class Field:
    """One candidate column: where it is, the name to judge it by, and its non-null values."""

    path: str
    name: str
    values: list[Any]


def record_fields(records: list[Any]) -> list[Field]:
    """Every dotted path to a scalar in the records, in first-seen order."""
    values: dict[str, list[Any]] = {}
    for record in records[:SAMPLE_RECORDS]:
        if isinstance(record, dict):
            _collect_scalars(record, "", values, 0)
    return [Field(path, _field_name(path), found) for path, found in values.items()]


def field_at(records: list[Any], path: str) -> Field:
    """The values at `path` (which may index lists) of the records, as one field."""
    found = [RUNTIME["get_path"](record, path) for record in records[:SAMPLE_RECORDS]]
    return Field(path, _field_name(path), [value for value in found if value is not None])


def _field_name(path: str) -> str:
    # The name that says what a field is: "metricValues.0.value" is a "value"; a position in a
    # row ("1") is all the name it has.
    return next((part for part in reversed(path.split(".")) if not part.isdigit()), path)


def _collect_scalars(obj: Any, prefix: str, values: dict[str, list[Any]], depth: int) -> None:
    items = obj.items() if isinstance(obj, dict) else enumerate(obj[:INDEXED_ITEMS])
    for key, value in items:
        if isinstance(key, str) and not addressable(key):
            continue
        path = f"{prefix}{key}"
        if isinstance(value, dict | list):
            if depth < MAX_DEPTH:
                _collect_scalars(value, path + ".", values, depth + 1)
        else:
            found = values.setdefault(path, [])
            if value is not None:
                found.append(value)


def _whole(value: Any, low: int, high: int) -> bool:
    number = sample_number(value)
    return number is not None and number == int(number) and low <= number <= high


def _month(value: Any) -> bool:
    return _whole(value, 1, 12) or (
        isinstance(value, str) and (RUNTIME["month_number"](value) is not None or value == "M13")
    )


def addressable(key: Any) -> bool:
    """Keys a dotted path can name (get_path splits on dots and reads digits as indexes)."""
    return isinstance(key, str) and key != "" and "." not in key and not key.isdigit()


def choose_date(fields: list[Field], size: int, words: tuple[str, ...] = ()) -> str | None:
    """The field whose values mostly are dates named by the metric's `words` ("Merged MRs":
    `merged_at`), else the best-named, else the first such field. A creation time comes
    before other times: a record counted per period is counted when it was made."""
    best = None
    for order, field in enumerate(fields):
        rank = rank_of(field.name, DATE_NAMES)
        # The first of a pair ([time, value] in Prometheus's `value.0`) is named by its place.
        by_name = rank is not None or sounds_like_time(field.name) or field.path.endswith(".0")
        dates = sum(is_date_value(value, by_name=by_name) for value in field.values)
        if dates == 0 or dates * 2 < size:
            continue
        named = bool({word.rstrip("s") for word in words} & set(words_of(field.name)))
        created = "creat" in field.name.lower()
        by_rank = rank if rank is not None else len(DATE_NAMES) + (not created) + 2 * (not by_name)
        score = (not named, by_rank, order)
        if best is None or score < best[0]:
            best = (score, field.path)
    if best is None:
        # Epoch milliseconds need no name to be times (Elasticsearch's and Vercel's `key`).
        best = next(
            (
                (None, field.path)
                for field in fields
                if field.values
                and all(isinstance(value, int) and value >= 1e12 for value in field.values)
                and all(is_epoch(value) for value in field.values)
            ),
            None,
        )
    return None if best is None else best[1]


def date_parts(fields: list[Field], size: int) -> list[str] | None:
    """Year, month and day fields that together date each record (tables that spread the date
    over columns), as far as they go: [year], [year, month] or [year, month, day]."""
    parts = []
    for names, valid in DATE_PARTS:
        field = next(
            (
                field
                for field in fields
                if rank_of(field.name, names) is not None
                and len(field.values) * 2 >= size
                and all(valid(value) for value in field.values)
            ),
            None,
        )
        if field is None:
            break
        parts.append(field.path)
    return parts or None


def value_fields(
    fields: list[Field], size: int, excluded: set[str | None], *, text_is_plain: bool = False
) -> list[tuple[str, tuple[int, int]]]:
    """Every numeric field that may be the measure, with its standing (see `Series.standing`).

    A generic name (`value`, `count`, also as the ending of a top-level name: `doc_count`)
    stands first, then top-level numbers; nested numbers (`commit.comment_count`) and numbers
    given as text are details of a record that only the metric's name can pick, and fields
    inside lists (`line_items.0.quantity`) come after their peers. In tables
    (`text_is_plain`) every cell is text, so numbers as text stand like numbers.
    """
    found = []
    for field in fields:
        if field.path in excluded or not mostly_numeric(field.values, size):
            continue
        nested = "." in field.path
        rank = rank_of(field.name, GENERIC_VALUE_NAMES)
        if rank is None and not nested:
            rank = _suffix_rank(field.name)
        if rank is not None:
            # In a list (`line_items.0.quantity`) a number is one of many: only a name or the
            # lack of any other number makes it the value.
            standing = (2, rank) if in_list(field.path) else (0, rank)
        elif is_identifier_name(field.name) or looks_like_identifier(field.path):
            continue
        elif not nested and (
            text_is_plain or all(isinstance(value, int | float) for value in field.values)
        ):
            standing = (1, 0)
        else:
            standing = (2, in_list(field.path))
        found.append((field.path, standing))
    return found


def _suffix_rank(name: str) -> int | None:
    # Ranked after every exact name: "doc_count" is a count, after a field named "count".
    words = words_of(name)
    last = words[-1] if len(words) > 1 else None
    return (
        len(GENERIC_VALUE_NAMES) + GENERIC_VALUE_NAMES.index(last)
        if last in (GENERIC_VALUE_NAMES) and last != "y"
        else None
    )


def in_list(path: str) -> bool:
    """Whether the path goes through a list index (`line_items.0.quantity`)."""
    return any(part.isdigit() for part in path.split("."))


def distinguishing_labels(fields: list[Field], count: int) -> list[str]:
    """The fewest text fields, in order, whose values together tell `count` items apart
    (Datadog's `scope`, Prometheus's `metric.instance`); none for a single item."""
    chosen: list[Field] = []
    for field in fields:
        if count < 2 or len(set(zip(*(f.values for f in chosen), strict=False))) >= count:
            break
        texts = field.values
        if len(texts) == count and all(isinstance(v, str) for v in texts) and len(set(texts)) > 1:
            chosen.append(field)
    return [field.path for field in chosen]


def is_date_value(value: Any, *, by_name: bool) -> bool:
    """A date, judged strictly unless the field's name already says it holds times."""
    if isinstance(value, str):
        text = value.strip()
        if not by_name and not (ISO_DATE_START.match(text) or PERIOD_LABEL.match(text)):
            return False
        return sample_date(text) is not None
    if isinstance(value, int | float) and not isinstance(value, bool) and by_name:
        seconds = value / 1000 if abs(value) >= 100_000_000_000 else value
        return EPOCH_SECONDS[0] <= seconds <= EPOCH_SECONDS[1]
    return False


def is_listed_time(value: Any) -> bool:
    """A time in a list of times or a [time, value] pair: an epoch number, epoch digits as
    text (Loki's nanoseconds) or a date by its look."""
    if isinstance(value, str) and value.isdigit():
        return len(value) in (10, 13, 16, 19) and is_date_value(int(value[:10]), by_name=True)
    return is_epoch(value) or is_date_value(value, by_name=False)


def is_epoch(value: Any) -> bool:
    """A number that can only be an epoch time (used where no field name vouches for it)."""
    return is_date_value(value, by_name=True) and not isinstance(value, str)


def mostly_numeric(values: list[Any], size: int) -> bool:
    numbers = sum(is_number_like(value) for value in values)
    return numbers > 0 and numbers * 2 >= size and numbers * 5 >= len(values) * 4


def is_number_like(value: Any) -> bool:
    """A number, also NaN or Infinity: a field of readings with gaps is still a field of
    readings (generated code skips the gaps and counts them), not records to count."""
    if isinstance(value, float) and not math.isfinite(value):
        return True
    if isinstance(value, str) and value.strip().lower().lstrip("+-") in NON_FINITE_TEXT:
        return True
    return sample_number(value) is not None


def all_numeric(values: list[Any]) -> bool:
    return bool(values) and all(sample_number(value) is not None for value in values)


def rank_of(name: str, names: tuple[str, ...]) -> int | None:
    normalised = re.sub(r"[^a-z0-9]", "", name.lower())
    return names.index(normalised) if normalised in names else None


def sounds_like_time(name: str) -> bool:
    lowered = name.lower()
    return "date" in lowered or "time" in lowered or bool(re.search(r"(_at|[a-z]At)$", name))


def is_identifier_name(name: str) -> bool:
    return (
        rank_of(name, NOT_VALUE_NAMES) is not None
        or rank_of(name, DATE_NAMES) is not None
        or NOT_VALUE_SUFFIX.search(name) is not None
    )
