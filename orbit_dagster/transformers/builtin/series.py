"""What the generator found: a `Series` (its shape and the constants of its generated code),
and the helpers every shape finder shares."""

from dataclasses import dataclass
from typing import Any

from orbit_dagster.transformers.builtin.runtime import RUNTIME

Constant = tuple[str, Any, str]  # (NAME, value, comment) in the generated code


@dataclass(frozen=True)
class Series:
    """How generated code reads one series: its shape, the shape's constants and a summary,
    and what the chooser weighs it by (where it is, what it measures, how plainly)."""

    shape: str  # records | table | pairs | parallel | mapping | snapshot
    summary: str
    constants: tuple[Constant, ...]
    aggregation: str | None  # None until the chooser reads hints and intent
    granularity: str | None
    size: int  # entries in the sample
    place: str = ""  # the path of the list or object holding the series
    measure: str | None = None  # the value's path, column or key; None: counted or all columns
    measure_name: str | None = None  # what a list of names calls a value read by position
    # How plainly the structure alone makes this the series, lower first: (0, n) a value with
    # a generic name ("value", "count"), (1, 0) a top-level number, (1, 1) counting records,
    # (2, 0) a number only the metric's name can pick (nested, or one of a list).
    standing: tuple[int, int] = (1, 0)
    hints: tuple[tuple[str, str], ...] = ()  # the hints that select exactly this series
    counts: bool = False  # each record counts as 1 (no value field)


# What a shape finder returns: a series, or None and why there is none ("" to say nothing).
Found = tuple[Series | None, str]


def get_path(data: Any, path: str) -> Any:
    return RUNTIME["get_path"](data, path)


def where(path: str) -> str:
    return f"'{path}'" if path else "the top level"


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
