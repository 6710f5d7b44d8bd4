"""The `file` template: a local JSON file, read and decoded."""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from orbit_dagster.sources.errors import SourceError


def fetch(config: Mapping[str, Any]) -> Any:
    path = Path(str(config["path"])).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourceError(f"file source: {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise SourceError(f"file source: cannot read {path}: {error}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise SourceError(
            f"file source: {path} is not valid JSON ({error.msg} at line {error.lineno}, "
            f"column {error.colno}); it starts with {text[:80]!r}"
        ) from None
