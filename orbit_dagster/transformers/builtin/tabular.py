"""Records (a list of objects with a date field) and tables (rows under a header row, as Google
Sheets and CSV exports): their date field, value field(s) and dimension."""

from collections.abc import Callable
from typing import Any

from orbit_dagster.transformers.builtin.fields import (
    Field,
    addressable,
    all_numeric,
    choose_date,
    choose_value,
    field_at,
    is_date_value,
    record_fields,
)
from orbit_dagster.transformers.builtin.runtime import sample_number
from orbit_dagster.transformers.builtin.series import Found, Series, get_path, where


def records(path: str, records: list[Any], hints: dict[str, str]) -> Found:
    fields = record_fields(records)
    return _measured(
        "records",
        path,
        fields,
        len(records),
        f"the {len(records)} records at {where(path)}",
        hints,
        lambda hint: field_at(records, hint),
    )


def table(path: str, rows: list[Any], header: list[str], hints: dict[str, str]) -> Found:
    body = rows[1:]
    fields = [
        Field(column, column, [get_path(row, str(index)) for row in body])
        for index, column in enumerate(header)
    ]
    fields = [Field(f.path, f.name, [v for v in f.values if v not in (None, "")]) for f in fields]
    by_name = {field.path: field for field in fields}
    return _measured(
        "table",
        path,
        fields,
        len(body),
        f"the {len(body)} rows at {where(path)}",
        hints,
        lambda hint: by_name.get(hint, Field(hint, hint, [])),
    )


def _measured(
    shape: str,
    path: str,
    fields: list[Field],
    size: int,
    what: str,
    hints: dict[str, str],
    hinted: Callable[[str], Field],
) -> Found:
    """A records or table series: its date field, value field(s) and dimension."""
    listing = ", ".join(field.path for field in fields[:12]) or "none"
    if "date_path" in hints:
        date = hints["date_path"]
        if not any(is_date_value(value, by_name=True) for value in hinted(date).values):
            return None, f"{what} have no dates at '{date}' (fields: {listing})"
    else:
        date = choose_date(fields, size)
        if date is None:
            return None, f"{what} have no date-like field (fields: {listing})"
    group_by = hints.get("group_by")
    if group_by is not None and not hinted(group_by).values:
        return None, f"{what} have no field '{group_by}' to group by (fields: {listing})"
    excluded = {date, group_by}
    if hints.get("aggregation") == "count":
        values: tuple[str, ...] = ()
    elif "value_path" in hints:
        if not any(
            sample_number(value) is not None for value in hinted(hints["value_path"]).values
        ):
            return None, f"{what} have no numbers at '{hints['value_path']}' (fields: {listing})"
        values = (hints["value_path"],)
    elif shape == "table":
        values = tuple(f.path for f in fields if f.path not in excluded and all_numeric(f.values))
    else:
        values = tuple(path for path in [choose_value(fields, size, excluded)] if path)
    aggregation = hints.get("aggregation") or ("sum" if values else "count")
    if aggregation != "count" and not values:
        return None, (
            f"{what} have no numeric field for aggregation '{aggregation}' "
            f"(fields: {listing}); give value_path"
        )
    dimensions = [group_by] if group_by else []
    if shape == "table":
        summary = (
            f"Reads {what} of the sample (first row: column names), dated by column "
            f"{date!r}" + (f", values in {', '.join(values)}." if values else ", counted.")
        )
        constants = (
            ("TABLE_PATH", path, "where the rows are"),
            ("DATE_COLUMN", date, ""),
            ("VALUE_COLUMNS", list(values), "[]: each row counts as 1; several: one series each"),
            ("DIMENSIONS", dimensions, "columns whose cells become dimensions"),
        )
    else:
        value = values[0] if values else None
        summary = f"Reads {what} of the sample, dates each by {date!r} and " + (
            f"reads its value at {value!r}." if value else "counts them."
        )
        constants = (
            ("RECORDS_PATH", path, 'where the records are; "" is the payload'),
            ("DATE_PATH", date, ""),
            ("VALUE_PATH", value, "None: each record counts as 1"),
            ("DIMENSIONS", dimensions, "fields whose values become dimensions"),
        )
    # Counting only makes sense per period; measured values keep their own times by default.
    granularity = hints.get("granularity") or ("day" if aggregation == "count" else None)
    return Series(shape, summary, constants, aggregation, granularity, size), ""


def table_header(rows: list[Any]) -> list[str] | None:
    """The column names, when the first row is names rather than data."""
    first = rows[0]
    if len(rows) < 2 or not isinstance(first, list) or not first:
        return None
    if not all(
        isinstance(cell, str) and cell.strip() and addressable(cell.strip()) for cell in first
    ):
        return None
    if all(sample_number(cell) is not None or is_date_value(cell, by_name=False) for cell in first):
        return None
    return [cell.strip() for cell in first]
