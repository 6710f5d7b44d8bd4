"""Reading a metric config: numbers given as text on the command line, dotted paths, secrets.

Config values arrive as strings from `orbit metrics add --config KEY=VALUE`; these helpers turn
them into typed options with messages that name the key, and read secrets from the environment
at fetch time only (the metric row holds the variable's name, never its value).
"""

import math
import os
from collections.abc import Mapping
from typing import Any

from orbit_dagster.sources.errors import SourceError

# The default cap on what a source reads (an HTTP body, a file): 20 MiB of JSON is far more
# than a metric needs, and far less than the memory a worker has.
MAX_BYTES = 20 * 1024 * 1024
# The largest cap a metric may ask for.
MAX_BYTES_LIMIT = 1024 * 1024 * 1024


def number_option(
    config: Mapping[str, Any],
    key: str,
    default: float,
    *,
    minimum: float = 0,
    maximum: float = float("inf"),
) -> float:
    value = config.get(key)
    if value in (None, ""):
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SourceError(f"config {key} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise SourceError(f"config {key} must be a finite number, got {value!r}")
    if number < minimum:
        raise SourceError(f"config {key} must be at least {_shown(minimum)}, got {value!r}")
    if number > maximum:
        raise SourceError(f"config {key} must be at most {_shown(maximum)}, got {value!r}")
    return number


def _shown(number: float) -> str:
    return f"{number:,.0f}" if number == int(number) else f"{number:g}"


def int_option(
    config: Mapping[str, Any],
    key: str,
    default: int,
    *,
    minimum: int = 0,
    maximum: float = float("inf"),
) -> int:
    number = number_option(config, key, default, minimum=minimum, maximum=maximum)
    if number != int(number):
        raise SourceError(f"config {key} must be a whole number, got {config.get(key)!r}")
    return int(number)


def max_bytes_option(config: Mapping[str, Any]) -> int:
    """Config `max_bytes`: the largest body or file a fetch reads, at most 1 GiB."""
    return int_option(config, "max_bytes", MAX_BYTES, minimum=1, maximum=MAX_BYTES_LIMIT)


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
