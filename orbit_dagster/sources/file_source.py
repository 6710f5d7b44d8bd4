"""The `file` template: a local JSON or CSV file (`path`; `format` json|csv, else by suffix;
`max_bytes`, default 20 MiB), read only from the allowed folders (`local_files`).

A CSV file becomes a list of rows keyed by its header, the shape of a JSON records API.
Errors name the file and where it went wrong, never its contents.
"""

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from orbit_dagster.sources.errors import SourceError
from orbit_dagster.sources.fetched import EXCERPT_CHARACTERS, Fetched
from orbit_dagster.sources.local_files import read_capped
from orbit_dagster.sources.options import max_bytes_option
from orbit_dagster.sources.redaction import Redactor

FORMATS = ("json", "csv")


def check(config: Mapping[str, Any]) -> None:
    if config.get("format") and config["format"] not in FORMATS:
        raise SourceError(f"file source: format must be json or csv, got {config['format']!r}")
    max_bytes_option(config)


def fetch(config: Mapping[str, Any]) -> Fetched:
    path = _path(config)
    raw = read_capped(path, max_bytes_option(config))
    try:
        text = raw.decode("utf-8-sig")  # spreadsheet exports often start with a BOM
    except UnicodeDecodeError as error:
        raise SourceError(f"file source: {path} is not UTF-8 text (byte {error.start})") from None
    is_csv = (config.get("format") or path.suffix.lower().lstrip(".")) == "csv"
    payload = _read_csv(path, text) if is_csv else _read_json(path, text)
    shown = Redactor().excerpt(text, EXCERPT_CHARACTERS)
    return Fetched(payload=payload, log=f"read {path} ({len(raw)} bytes)\n{shown}")


def _path(config: Mapping[str, Any]) -> Path:
    return Path(str(config["path"])).expanduser()


def _read_json(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise SourceError(
            f"file source: {path} is not valid JSON ({error.msg} at line {error.lineno}, "
            f"column {error.colno})"
        ) from None


def _read_csv(path: Path, text: str) -> list[dict[str, str]]:
    try:
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise SourceError(f"file source: {path} is not valid CSV ({error})") from None
    if not rows:
        raise SourceError(f"file source: {path} has no rows under its header line")
    return rows
