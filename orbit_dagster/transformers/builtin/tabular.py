"""Records (a list of objects with a date field) and tables (rows under a header row, as Google
Sheets and CSV exports, or beside a list of column names): their date field, and one series
per field that may be the value, plus counting the records."""

from collections.abc import Callable, Iterator
from typing import Any

from orbit_dagster.transformers.builtin.fields import (
    SAMPLE_RECORDS,
    Field,
    addressable,
    all_numeric,
    choose_date,
    date_parts,
    field_at,
    in_list,
    is_date_value,
    is_epoch,
    is_number_like,
    record_fields,
    value_fields,
)
from orbit_dagster.transformers.builtin.intent import SILENT, Intent, words_of
from orbit_dagster.transformers.builtin.runtime import RUNTIME
from orbit_dagster.transformers.builtin.series import Found, Series, get_path, where


def records(
    path: str, items: list[Any], hints: dict[str, str], intent: Intent = SILENT
) -> Iterator[Found]:
    """Records of objects, or rows of a list without a header read by position ("0", "1")."""
    sample = items[:SAMPLE_RECORDS]
    by_position = all(isinstance(item, list) for item in sample)
    if by_position:
        width = max(len(item) for item in sample)
        fields = [field_at(sample, str(index)) for index in range(width)]
    else:
        fields = record_fields(sample)
    yield from _measured(
        "records",
        path,
        fields,
        len(items),
        f"the {len(items)} records at {where(path)}",
        hints,
        lambda hint: field_at(sample, hint),
        intent=intent,
        dated_by_look=by_position,
        sample=sample,
    )


def table(
    path: str,
    rows: list[Any],
    header: list[str],
    header_path: str | None,
    hints: dict[str, str],
    intent: Intent = SILENT,
) -> Iterator[Found]:
    """Rows under a header row (`header_path` None) or beside a list of column names."""
    body = rows if header_path is not None else rows[1:]
    fields = [
        Field(column, column, [get_path(row, str(index)) for row in body])
        for index, column in enumerate(header)
    ]
    fields = [Field(f.path, f.name, [v for v in f.values if v not in (None, "")]) for f in fields]
    by_name = {field.path: field for field in fields}
    yield from _measured(
        "table",
        path,
        fields,
        len(body),
        f"the {len(body)} rows at {where(path)}",
        hints,
        lambda hint: by_name.get(hint, Field(hint, hint, [])),
        header_path,
        intent,
    )


def _measured(
    shape: str,
    path: str,
    fields: list[Field],
    size: int,
    what: str,
    hints: dict[str, str],
    hinted: Callable[[str], Field],
    header_path: str | None = None,
    intent: Intent = SILENT,
    dated_by_look: bool = False,
    sample: list[Any] | None = None,
) -> Iterator[Found]:
    """The series of records or a table: one per value field, and counting the records.

    The metric's `intent` names the date field ("Merged MRs": `merged_at`) and the dimension
    ("by host"); `sample` are the records the fields were read from; `dated_by_look` takes the
    first field
    of epoch times as the date (rows read by position have no names to go by).
    """
    listing = ", ".join(field.path for field in fields[:12]) or "none"
    # Fields are judged on a sample of at most SAMPLE_RECORDS, so they are counted against it.
    judged = min(size, SAMPLE_RECORDS)
    date: str | list[str] | None
    if "date_path" in hints:
        date = hints["date_path"]
        if not any(is_date_value(value, by_name=True) for value in hinted(date).values):
            yield None, f"{what} have no dates at '{date}' (fields: {listing})"
            return
    else:
        date = choose_date(fields, judged, intent.measure_words) or date_parts(fields, judged)
        if date is None and dated_by_look:
            date = next((f.path for f in fields if f.values and all(map(is_epoch, f.values))), None)
        if date is None:
            yield None, f"{what} have no date-like field (fields: {listing})"
            return
    if (
        isinstance(date, str)
        and not dated_by_look
        and in_list(date)
        and (size == 1 or not _dated_once(sample or [], date))
    ):
        # One object holding a dated list (GraphQL's `zones: [{...}]`) wraps records, and
        # objects holding many times (InfluxDB's `values` rows) are series, not records.
        yield None, f"{what} hold their dates in a list at '{date}'"
        return
    group_by = hints.get("group_by") or split_field(fields, intent)
    # Values of records sharing a time are told apart by their label, never added up.
    labelled_by = labelling_field(sample, fields, date) if group_by is None and sample else None
    if group_by is not None and not hinted(group_by).values:
        yield None, f"{what} have no field '{group_by}' to group by (fields: {listing})"
        return
    dated_by = date if isinstance(date, list) else [date]
    excluded = {*dated_by, group_by}
    if hints.get("aggregation") == "count":
        values = []
    elif "value_path" in hints:
        if not any(is_number_like(value) for value in hinted(hints["value_path"]).values):
            yield None, f"{what} have no numbers at '{hints['value_path']}' (fields: {listing})"
            return
        values = [(hints["value_path"], (0, 0))]
    else:
        values = value_fields(fields, judged, excluded, text_is_plain=shape == "table")
        if dated_by_look:
            # Positions have no names: only the metric's words or a hint can pick one.
            values = [(value, (2, 0)) for value, _ in values]
        if isinstance(date, str) and date.endswith(".0"):
            # A [time, value] pair in each record (Prometheus's instant `value`).
            paired = date[:-1] + "1"
            values = [(v, (0, 0) if v == paired else standing) for v, standing in values]
    build = _Builder(shape, path, what, date, [group_by] if group_by else [], size, header_path)
    if shape == "table" and len(values) > 1 and "value_path" not in hints:
        # Every numeric column, one series each: what a sheet of several columns shows.
        columns = [column for column, _ in values if all_numeric(by_column(fields, column))]
        if len(columns) > 1:
            yield build.series(columns, (0, -1)), ""
    for value, standing in values:
        yield build.series([value], standing, labelled_by), ""
    if hints.get("aggregation", "count") == "count" and "value_path" not in hints:
        yield build.series([], (1, 1)), ""
    if not values and hints.get("aggregation", "count") != "count" and "value_path" not in hints:
        yield (
            None,
            (
                f"{what} have no numeric field for aggregation '{hints['aggregation']}' "
                f"(fields: {listing}); give value_path"
            ),
        )


def _dated_once(records: list[Any], date: str) -> bool:
    """Whether each record has one date at `date`: the lists on the way hold objects (GA4's
    `dimensionValues`), one scalar (Search Console's `keys`) or a [time, value] pair
    (Prometheus's instant `value`)."""
    parts = date.split(".")
    for index, part in enumerate(parts):
        if not part.isdigit():
            continue
        for record in records:
            found = get_path(record, ".".join(parts[:index]))
            if not isinstance(found, list):
                continue
            pair = (
                len(found) in (1, 2)
                and not any(isinstance(item, list | dict) for item in found)
                and not is_epoch(found[-1] if len(found) == 2 else None)
            )
            if not pair and not all(isinstance(item, dict) for item in found):
                return False
    return True


def labelling_field(records: list[Any], fields: list[Field], date: str | list[str]) -> str | None:
    """The one text field that tells apart records sharing a time (PyPI Stats' `category`
    beside `date`): adding those up would mix series, so each becomes a dimension."""
    dates = [str(RUNTIME["read_date"](record, date)) for record in records]
    if len(set(dates)) == len(dates):
        return None
    telling = [
        field.path
        for field in fields
        if field.values
        and all(isinstance(value, str) for value in field.values)
        # A label repeats across times; an identifier (`key`, `sha`) does not.
        and len(set(field.values)) * 2 <= len(field.values)
        and len(set(zip(dates, (str(get_path(r, field.path)) for r in records), strict=True)))
        == len(dates)
    ]
    return telling[0] if len(telling) == 1 else None


def split_field(fields: list[Field], intent: Intent) -> str | None:
    """The text field whose name starts with a word the metric is split by ("by instance":
    `metric.instance`)."""
    for field in fields:
        words = words_of(field.path.rsplit(".", 1)[-1])
        texts = field.values and all(isinstance(value, str) for value in field.values)
        # A prefix is enough: "by country" is `countryiso3code` (World Bank).
        if texts and any(w.startswith(by) for w in words for by in intent.by_words):
            return field.path
    return None


def by_column(fields: list[Field], column: str) -> list[Any]:
    return next(field.values for field in fields if field.path == column)


class _Builder:
    """Makes the Series of one place of records or rows, for a given list of value fields."""

    def __init__(
        self,
        shape: str,
        path: str,
        what: str,
        date: str | list[str],
        dimensions: list[str],
        size: int,
        header_path: str | None,
    ):
        self.shape, self.path, self.what, self.date = shape, path, what, date
        self.dimensions, self.size, self.header_path = dimensions, size, header_path

    def series(
        self, values: list[str], standing: tuple[int, int], labelled_by: str | None = None
    ) -> Series:
        date, what = self.date, self.what
        dimensions = self.dimensions + ([labelled_by] if labelled_by else [])
        dated = f"columns {', '.join(date)}" if isinstance(date, list) else repr(date)
        if dimensions:
            what += f", one series per {', '.join(dimensions)},"
        if self.shape == "table":
            summary = (
                f"Reads {what} of the sample ("
                + (
                    "column names at " + repr(self.header_path)
                    if self.header_path
                    else "first row: column names"
                )
                + f"), dated by {dated}"
                + (f", values in {', '.join(values)}." if values else ", counted.")
            )
            constants = (
                ("TABLE_PATH", self.path, "where the rows are"),
                ("HEADER_PATH", self.header_path, "the column names; None: the first row"),
                ("DATE_COLUMN", date, "a list: year, month and day columns"),
                ("VALUE_COLUMNS", values, "[]: each row counts as 1; several: one series each"),
                ("DIMENSIONS", dimensions, "columns whose cells become dimensions"),
            )
        else:
            value = values[0] if values else None
            summary = f"Reads {what} of the sample, dates each by {dated} and " + (
                f"reads its value at {value!r}." if value else "counts them."
            )
            constants = (
                ("RECORDS_PATH", self.path, 'where the records are; "" is the payload'),
                ("DATE_PATH", date, "a list: year, month and day fields"),
                ("VALUE_PATH", value, "None: each record counts as 1"),
                ("DIMENSIONS", dimensions, "fields whose values become dimensions"),
            )
        measure = values[0] if len(values) == 1 else None
        selects = [("records_path", self.path)] if self.path else []
        if measure is not None:
            selects.append(("value_path", measure))
        elif not values:
            selects.append(("aggregation", "count"))
        return Series(
            self.shape,
            summary,
            constants,
            "count" if not values else None,
            None,
            self.size,
            place=self.path,
            measure=measure,
            standing=standing,
            hints=tuple(selects),
            counts=not values,
        )


def table_header(rows: list[Any]) -> list[str] | None:
    """The column names, when the first row is names rather than data."""
    first = rows[0]
    if len(rows) < 2 or not isinstance(first, list) or not first:
        return None
    return column_names(first)


def column_names(cells: Any) -> list[str] | None:
    """`cells` as column names: text that is neither a number nor a date (or objects naming
    a column, as Nasdaq Data Link's `{"name": "date", "type": "Date"}`)."""
    if not isinstance(cells, list) or not cells:
        return None
    names = [RUNTIME["column_name"](cell) for cell in cells]
    if not all(isinstance(name, str) and addressable(name) for name in names):
        return None
    if all(is_number_like(name) or is_date_value(name, by_name=False) for name in names):
        return None
    return names
