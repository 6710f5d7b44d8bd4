"""What the generator found: a `Series` (its shape and the constants of its generated code),
and the helpers every shape finder shares."""

from dataclasses import dataclass
from typing import Any

from orbit_dagster.transformers.builtin.runtime import RUNTIME

Constant = tuple[str, Any, str]  # (NAME, value, comment) in the generated code


@dataclass(frozen=True)
class Series:
    """How generated code reads one series: its shape, the shape's constants and a summary."""

    shape: str  # records | table | pairs | parallel | mapping | snapshot
    summary: str
    constants: tuple[Constant, ...]
    aggregation: str
    granularity: str | None
    size: int  # entries in the sample: the biggest series wins


# What a shape finder returns: a series, or None and why there is none ("" to say nothing).
Found = tuple[Series | None, str]


def get_path(data: Any, path: str) -> Any:
    return RUNTIME["get_path"](data, path)


def where(path: str) -> str:
    return f"'{path}'" if path else "the top level"


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
