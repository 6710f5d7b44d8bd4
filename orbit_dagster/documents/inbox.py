"""Which files in an inbox folder are new since the last look (by name, size and mtime)."""

from collections.abc import Mapping
from pathlib import Path


def fingerprint(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def new_files(folder: Path, seen: Mapping[str, str]) -> tuple[list[Path], dict[str, str]]:
    """Files not seen with this size and mtime before, and the fingerprints of all present.

    Hidden files (`.name`, as partial uploads often are) are left for later. Files that are
    gone drop out of the returned map, so it stays as small as the folder.
    """
    current = {
        path.name: fingerprint(path)
        for path in sorted(folder.iterdir())
        if path.is_file() and not path.name.startswith(".")
    }
    fresh = [folder / name for name, mark in current.items() if seen.get(name) != mark]
    return fresh, current
