"""Rendering generated ingestion code: the docstring, the constants a person can edit, the
`entries(payload)` of the series' shape, then the shared helpers and `transform`."""

import json
from typing import Any

from orbit_dagster.transformers.builtin.runtime import HELPERS, IMPORTS, TRANSFORM
from orbit_dagster.transformers.builtin.series import Series

# `entries(payload)` per shape: it yields (raw date, raw value, dimensions) for `transform`.
ENTRIES = {
    "records": '''

def entries(payload):
    """Date, value and dimensions of each record; a record counts as 1 without VALUE_PATH."""
    for record in as_list(get_path(payload, RECORDS_PATH)):
        value = 1 if VALUE_PATH is None else get_path(record, VALUE_PATH)
        yield read_date(record, DATE_PATH), value, dimensions_of(record)
''',
    "table": '''

def entries(payload):
    """Date, value and dimensions of each row (named by HEADER_PATH, else by the first row)."""
    rows = as_list(get_path(payload, TABLE_PATH))
    if HEADER_PATH is None:
        header, rows = (rows[0] if rows else []), rows[1:]
    else:
        header = as_list(get_path(payload, HEADER_PATH))
    header = [str(column_name(cell)) for cell in as_list(header)]
    for row in rows:
        # Not strict: Sheets leaves out the empty cells at the end of a row.
        cells = dict(zip(header, as_list(row), strict=False))
        dimensions = dimensions_of(cells)
        if not VALUE_COLUMNS:
            yield read_date(cells, DATE_COLUMN), 1, dimensions
        for column in VALUE_COLUMNS:
            series = dimensions
            if len(VALUE_COLUMNS) > 1:
                series = dimensions + (("series", column),)  # one series per column
            yield read_date(cells, DATE_COLUMN), cells.get(column), series
''',
    "pairs": '''

def entries(payload):
    """Date, value and dimensions of each [time, value] pair, series by series."""
    if SERIES_PATH is None:
        every_series = [payload]
    else:
        every_series = as_list(get_path(payload, SERIES_PATH))
    for series in every_series:
        dimensions = dimensions_of(series)
        for pair in as_list(get_path(series, PAIRS_PATH)):
            yield get_path(pair, "0"), 1 if COUNT_PAIRS else get_path(pair, "1"), dimensions
''',
    "parallel": '''

def entries(payload):
    """Each date of DATES_PATH with the value at the same index of VALUES_PATH, in the payload
    or in each series at SERIES_PATH (whose dates may be one list in the payload)."""
    every_series = [payload] if SERIES_PATH is None else as_list(get_path(payload, SERIES_PATH))
    for series in every_series:
        values = as_list(get_path(series, VALUES_PATH))
        dimensions = dimensions_of(series)
        dates = get_path(series if DATES_IN_SERIES else payload, DATES_PATH)
        for index, raw_date in enumerate(as_list(dates)):
            yield raw_date, get_path(values, str(index)), dimensions
''',
    "mapping": '''

def entries(payload):
    """Each date key and its value (or the value under VALUE_KEY of the object it maps to), of
    the object at MAPPING_PATH or of each object in it."""
    mapping = get_path(payload, MAPPING_PATH)
    if not isinstance(mapping, dict):
        return
    if SERIES_DIMENSION is None:
        every_series = [((), mapping)]
    else:
        every_series = [
            (((SERIES_DIMENSION, label(name)),), by_date) for name, by_date in mapping.items()
        ]
    for dimensions, by_date in every_series:
        if isinstance(by_date, dict):
            for raw_date, raw_value in by_date.items():
                if isinstance(raw_value, list):
                    raw_value = len(raw_value)  # a list of events: how many
                elif VALUE_KEY is not None:
                    raw_value = raw_value.get(VALUE_KEY) if isinstance(raw_value, dict) else None
                elif VALUES_BY_POSITION_PATH is not None:
                    position = str(raw_value).split(".")[0]  # 3 or 3.0: the 4th value
                    raw_value = get_path(get_path(payload, VALUES_BY_POSITION_PATH), position)
                yield raw_date, raw_value, dimensions
''',
    "snapshot": '''

def entries(payload):
    """One entry: the number at VALUE_PATH, dated at the time of the run."""
    now = datetime.datetime.now(datetime.UTC)
    yield now.strftime("%Y-%m-%dT%H:%M:%SZ"), get_path(payload, VALUE_PATH), ()
''',
}


def render_ingestion(series: Series, header: str) -> str:
    """The whole generated module for `series`, under the docstring `header`."""
    constants = "".join(constant(*item) for item in series.constants)
    constants += constant(
        "AGGREGATION", series.aggregation, "per period: count, sum, avg, last, max or min"
    )
    constants += constant(
        "GRANULARITY", series.granularity, "hour, day, week, month; None: exact times"
    )
    if not any(name == "DIMENSIONS" for name, _, _ in series.constants):
        constants += constant("DIMENSIONS", [], "this shape has no fields to label series by")
    # What differs between shapes comes first; the shared helpers and transform close the code.
    parts = [comment(series.summary), IMPORTS, constants, ENTRIES[series.shape], HELPERS]
    return header + "".join(parts) + TRANSFORM


def literal(value: Any) -> str:
    """Python source for a constant, double-quoted like the rest of the generated code."""
    if isinstance(value, list):
        return "[" + ", ".join(literal(item) for item in value) + "]"
    if value is None or isinstance(value, bool):
        return repr(value)
    # A JSON string (non-ASCII kept as is) is also a valid Python string literal.
    return json.dumps(value, ensure_ascii=False)


def constant(name: str, value: Any, note: str = "") -> str:
    return f"{name} = {literal(value)}" + (f"  # {note}" if note else "") + "\n"


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def docstring(title: str, description: str, provenance: str) -> str:
    """The module docstring of generated code; the text is escaped so it cannot end it early."""
    paragraphs = [title] + [line for line in (one_line(description), provenance) if line]
    body = "\n\n".join(paragraphs).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return f'"""{body}\n"""\n\n'


def comment(text: str) -> str:
    """`text` as a block of # lines of at most 90 characters."""
    lines, line = [], "#"
    for word in text.split():
        if len(line) + 1 + len(word) > 90:
            lines.append(line)
            line = "#"
        line += " " + word
    return "\n".join([*lines, line]) + "\n\n"
