"""The helper functions every generated ingestion transformer carries, as source text.

Generated code reads dates and numbers with `parse_date` and `to_number` below. The generator
judges sample values with the very same functions (`RUNTIME`, this source executed once
in-process), so a field it picks is by construction one the generated code can read. The source
imports only `datetime`, `math` and `re`, which the sandbox allows.
"""

from typing import Any

IMPORTS = "import datetime\nimport math\nimport re\n\n"

# Shared by every shape: paths, dates, numbers, dimensions, periods and aggregation. Each shape
# supplies `entries(payload)`, yielding (raw date, raw value, dimensions) for TRANSFORM.
HELPERS = r'''

# Dates that are not ISO 8601: RFC 2822 (e-mail, RSS, HTTP headers), with and without weekday.
RFC_2822_FORMATS = ("%a, %d %b %Y %H:%M:%S %z", "%d %b %Y %H:%M:%S %z", "%a, %d %b %Y %H:%M:%S %Z")
# Periods named rather than dated, read as their first day: a year "2021", a quarter "2021-Q3"
# or "2021Q3", a month "2021-03" or "2021M03" (Eurostat), "Mar 2021" or "March 2021".
YEAR = re.compile(r"(\d{4})$")
HOUR_STAMP = re.compile(r"(19|20)\d\d(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])([01]\d|2[0-3])$")
QUARTER = re.compile(r"(\d{4})-?Q([1-4])$", re.I)
MONTH = re.compile(r"(\d{4})(?:-|M)(\d{1,2})$")
NAMED_MONTH = re.compile(r"([A-Za-z]{3,9})\.? (\d{4})$")
MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def get_path(data, path):
    """The value at a dotted path such as "commit.author.date" or "rows.0.value" (a number
    indexes a list, "*" every item of a list); None where it is missing."""
    if not path:
        return data
    keys = path.split(".")
    for index, key in enumerate(keys):
        if key == "*":
            # Every item of a list down the rest of the path, lists found joined into one.
            rest = ".".join(keys[index + 1 :])
            found = [get_path(item, rest) for item in as_list(data)]
            return [value for item in found for value in as_list(item)]
        if isinstance(data, dict):
            data = data.get(key)
        elif isinstance(data, list) and key.isdigit() and int(key) < len(data):
            data = data[int(key)]
        else:
            return None
    return data


def as_list(value):
    """`value` if it is a list, else an empty list (a missing envelope yields no entries)."""
    return value if isinstance(value, list) else []


def parse_date(raw):
    """An aware UTC datetime from ISO-8601 or RFC 2822 text or epoch seconds/milliseconds
    (numbers or digit strings); else None."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        return None
    if isinstance(raw, str):
        text = raw.strip()
        if HOUR_STAMP.match(text):
            # "2026100100": Wikimedia's YYYYMMDDHH, not epoch seconds (those reach 19... in 2030).
            return datetime.datetime.strptime(text, "%Y%m%d%H").replace(tzinfo=datetime.UTC)
        if text.isdigit() and len(text) in (10, 13, 16, 19):
            # Epoch seconds or milliseconds as text; micro- and nanoseconds (Loki) to seconds.
            return parse_date(int(text) // 10 ** max(len(text) - 13, 0))
        moment = read_date_text(text)
        if moment is None:
            return None
        if moment.tzinfo is None:
            return moment.replace(tzinfo=datetime.UTC)  # no zone given: UTC
        return moment.astimezone(datetime.UTC)
    # Epoch numbers this large are milliseconds (as seconds they would be past the year 5000).
    seconds = raw / 1000 if abs(raw) >= 100_000_000_000 else raw
    try:
        return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def read_date_text(text):
    """A datetime from ISO-8601 text (also "20261001", "2021-W05"), RFC 2822 text or a
    period label; else None."""
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        pass
    for layout in RFC_2822_FORMATS:
        try:
            return datetime.datetime.strptime(text, layout)
        except ValueError:
            pass
    return read_period(text)


def read_period(text):
    """The first day of a year, quarter or month label ("2021", "2021-Q3", "Mar 2021")."""
    year, month = None, 1
    if YEAR.match(text):
        year = int(text)
    elif QUARTER.match(text):
        found = QUARTER.match(text)
        year, month = int(found.group(1)), 3 * int(found.group(2)) - 2
    elif MONTH.match(text):
        found = MONTH.match(text)
        year, month = int(found.group(1)), int(found.group(2))
    elif NAMED_MONTH.match(text):
        found = NAMED_MONTH.match(text)
        year, month = int(found.group(2)), month_number(found.group(1))
    if year is None or month is None or not 1 <= month <= 12 or year < 1:
        return None
    return datetime.datetime(year, month, 1)


def month_number(raw):
    """1-12 from a month number, "M09" (BLS) or a month name ("Mar", "march"); else None."""
    if isinstance(raw, str) and raw.strip()[:3].lower() in MONTH_NAMES:
        return MONTH_NAMES.index(raw.strip()[:3].lower()) + 1
    if isinstance(raw, str) and raw.strip()[:1] == "M":
        raw = raw.strip()[1:]
    number = to_number(raw)
    if number is None or number != int(number) or not 1 <= number <= 12:
        return None
    return int(number)


def read_date(item, path):
    """The raw date of an item: the value at `path`, or, when `path` is a list of year, month
    and day paths (a date spread over columns), "YYYY-MM-DD" made of them."""
    if not isinstance(path, list):
        return get_path(item, path)
    year = to_number(get_path(item, path[0]))
    month = month_number(get_path(item, path[1])) if len(path) > 1 else 1
    day = to_number(get_path(item, path[2])) if len(path) > 2 else 1
    if year is None or month is None or day is None:
        return None
    return f"{int(year):04d}-{month:02d}-{int(day):02d}"


def to_number(raw):
    """A finite float from a number or numeric text such as "1,234.50"; else None."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        return None
    if isinstance(raw, str):
        raw = raw.strip().replace(",", "")  # commas are thousands separators
    try:
        number = float(raw)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def column_name(cell):
    """A column's name: its text, or the name in an object describing the column."""
    if isinstance(cell, dict):
        cell = cell.get("name") or cell.get("label") or cell.get("id")
    return cell.strip() if isinstance(cell, str) else cell


def label(raw):
    """A dimension value as text; entries without one get a label of their own."""
    return "(none)" if raw is None or raw == "" else str(raw)


def dimensions_of(item):
    """The (name, label) pairs of the DIMENSIONS fields of one record or series."""
    return tuple((path, label(get_path(item, path))) for path in DIMENSIONS)


def period(moment):
    """The start of the GRANULARITY period holding `moment`, as ISO-8601 UTC text."""
    if GRANULARITY == "hour":
        moment = moment.replace(minute=0, second=0, microsecond=0)
    elif GRANULARITY in ("day", "week", "month"):
        moment = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        if GRANULARITY == "week":
            moment = moment - datetime.timedelta(days=moment.weekday())  # weeks start Monday
        elif GRANULARITY == "month":
            moment = moment.replace(day=1)
    # Not strftime("%Y"): it writes the year 1 as "1", which is not ISO 8601.
    return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}Z"


def aggregate(values):
    """Combine the values of one period (and series) as AGGREGATION says."""
    if AGGREGATION == "count":
        return len(values)
    if AGGREGATION == "avg":
        return sum(values) / len(values)
    if AGGREGATION == "last":
        return values[-1]
    if AGGREGATION == "max":
        return max(values)
    if AGGREGATION == "min":
        return min(values)
    return sum(values)
'''


# The end of every generated ingestion transformer.
TRANSFORM = '''

def transform(payload, config):
    """One point per (period, dimensions), in time order, and the entries skipped, by reason."""
    groups, skipped = {}, {}
    for raw_date, raw_value, dimensions in entries(payload):
        moment = parse_date(raw_date)
        value = to_number(raw_value)
        if moment is None or value is None:
            reason = "no usable date" if moment is None else "no usable value"
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        groups.setdefault((period(moment), dimensions), []).append(value)
    points = [
        {"date": date, "value": aggregate(values), "dimensions": dict(dimensions) or None}
        for (date, dimensions), values in sorted(groups.items())
    ]
    return {"points": points, "skipped": skipped}
'''


def _load() -> dict[str, Any]:
    # Our own constant source, executed once so the generator and the generated code share one
    # definition of what a date and a number are (no hand-kept copy to drift apart).
    namespace: dict[str, Any] = {}
    exec(compile(IMPORTS + HELPERS, "<builtin runtime>", "exec"), namespace)
    return namespace


RUNTIME = _load()


def sample_date(raw: Any) -> Any:
    """What generated code would read as a date from `raw` (an aware datetime), or None."""
    return RUNTIME["parse_date"](raw)


def sample_number(raw: Any) -> float | None:
    """What generated code would read as a number from `raw`, or None."""
    return RUNTIME["to_number"](raw)
