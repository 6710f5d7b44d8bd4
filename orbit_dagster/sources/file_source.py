"""The `file` template: a local JSON or CSV file (`path`; `format` json|csv, else by suffix).

A CSV file becomes a list of rows keyed by its header, the shape of a JSON records API.
"""

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from orbit_dagster.sources.errors import SourceError
from orbit_dagster.sources.fetched import Fetched, excerpt

FORMATS = ("json", "csv")


def check(config: Mapping[str, Any]) -> None:
    if config.get("format") and config["format"] not in FORMATS:
        raise SourceError(f"file source: format must be json or csv, got {config['format']!r}")


def fetch(config: Mapping[str, Any]) -> Fetched:
    path = Path(str(config["path"])).expanduser()
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")  # spreadsheet exports often start with a BOM
    except FileNotFoundError:
        raise SourceError(f"file source: {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise SourceError(f"file source: cannot read {path}: {error}") from None
    is_csv = (config.get("format") or path.suffix.lower().lstrip(".")) == "csv"
    payload = _read_csv(path, text) if is_csv else _read_json(path, text)
    return Fetched(payload=payload, log=f"read {path} ({len(raw)} bytes)\n{excerpt(raw)}")


def _read_json(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise SourceError(
            f"file source: {path} is not valid JSON ({error.msg} at line {error.lineno}, "
            f"column {error.colno}); it starts with {text[:80]!r}"
        ) from None


def _read_csv(path: Path, text: str) -> list[dict[str, str]]:
    try:
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise SourceError(f"file source: {path} is not valid CSV ({error})") from None
    if not rows:
        raise SourceError(f"file source: {path} has no rows under its header line")
    return rows
