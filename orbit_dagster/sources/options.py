"""Reading a metric config: numbers given as text on the command line, dotted paths, secrets.

Config values arrive as strings from `orbit metrics add --config KEY=VALUE`; these helpers turn
them into typed options with messages that name the key, and read secrets from the environment
at fetch time only (the metric row holds the variable's name, never its value).
"""

import os
from collections.abc import Mapping
from typing import Any

from orbit_dagster.sources.errors import SourceError


def number_option(
    config: Mapping[str, Any], key: str, default: float, *, minimum: float = 0
) -> float:
    value = config.get(key)
    if value in (None, ""):
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SourceError(f"config {key} must be a number, got {value!r}") from None
    if number < minimum:
        raise SourceError(f"config {key} must be at least {minimum:g}, got {value!r}")
    return number


def int_option(config: Mapping[str, Any], key: str, default: int, *, minimum: int = 0) -> int:
    number = number_option(config, key, default, minimum=minimum)
    if number != int(number):
        raise SourceError(f"config {key} must be a whole number, got {config.get(key)!r}")
    return int(number)


def get_path(value: Any, path: str) -> Any:
    """`value` at a dotted path ("data.next", "items.0.id"); None when any part is missing."""
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def read_secret(variable: str, *, key: str) -> str:
    """The value of the environment variable named by config `key`, read at fetch time."""
    value = os.environ.get(variable)
    if not value:
        raise SourceError(
            f"environment variable {variable} (named by config {key}) is not set or empty"
        )
    return value
