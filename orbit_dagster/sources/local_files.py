"""Reading a local file for the `file` template: only regular files under allowed folders, and
no more than a size cap.

A metric's path is user input, and a refresh runs with the worker's environment and rights:
`/proc/self/environ` would put its secrets in an error message, `/dev/zero` never ends, and a
FIFO blocks forever. So the path must resolve (symlinks followed) inside an allowed folder:
the project data folder (`ORBIT_DATA_DIR`), the bundled samples, and the folders listed in
`ORBIT_FILE_ROOTS` (separated by `os.pathsep`). It must be a regular file both before it is
opened and, through the open descriptor, after; it is opened non-blocking, so that a FIFO put
there in between cannot hang the read either. Errors name the path, never the contents.
"""

import os
import stat
from pathlib import Path

from orbit_dagster.settings import data_dir
from orbit_dagster.sources.bundled import SAMPLES_DIR
from orbit_dagster.sources.errors import SourceError

FILE_ROOTS_ENV = "ORBIT_FILE_ROOTS"
READ_CHUNK_BYTES = 1024 * 1024


def allowed_roots() -> list[Path]:
    """The folders files may be read from, resolved."""
    listed = os.environ.get(FILE_ROOTS_ENV, "").split(os.pathsep)
    roots = [data_dir(), SAMPLES_DIR, *(Path(entry).expanduser() for entry in listed if entry)]
    return [Path(os.path.realpath(root)) for root in roots]


def _check_allowed(path: Path) -> Path:
    """`path` resolved, or SourceError when it lies outside every allowed folder."""
    resolved = Path(os.path.realpath(path))
    roots = allowed_roots()
    if not any(resolved.is_relative_to(root) for root in roots):
        raise SourceError(
            f"file source: {path} is outside the folders files may be read from "
            f"({', '.join(map(str, roots))}); add its folder to {FILE_ROOTS_ENV}"
        )
    return resolved


def read_capped(path: Path, max_bytes: int) -> bytes:
    """The bytes of the regular file at `path`, refused past `max_bytes`."""
    resolved = _check_allowed(path)
    try:
        before = os.stat(resolved)
    except FileNotFoundError:
        raise SourceError(f"file source: {path} does not exist") from None
    except OSError as error:
        raise SourceError(f"file source: cannot read {path}: {error.strerror}") from None
    _check_regular(path, before, max_bytes)
    try:
        # O_NOFOLLOW: the resolved path has no link left, so a link here is a swap since.
        fd = os.open(resolved, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as error:
        raise SourceError(f"file source: cannot read {path}: {error.strerror}") from None
    try:
        after = os.fstat(fd)
        if (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino):
            raise SourceError(f"file source: {path} was replaced while it was being opened")
        _check_regular(path, after, max_bytes)
        return _read_at_most(fd, path, max_bytes)
    finally:
        os.close(fd)


def _check_regular(path: Path, status: os.stat_result, max_bytes: int) -> None:
    if not stat.S_ISREG(status.st_mode):
        raise SourceError(f"file source: {path} is not a regular file")
    if status.st_size > max_bytes:
        raise SourceError(_too_large(path, max_bytes))


def _read_at_most(fd: int, path: Path, max_bytes: int) -> bytes:
    # The size from stat is not trusted: a file may grow while it is read.
    data = bytearray()
    while chunk := os.read(fd, min(READ_CHUNK_BYTES, max_bytes + 1 - len(data))):
        data += chunk
        if len(data) > max_bytes:
            raise SourceError(_too_large(path, max_bytes))
    return bytes(data)


def _too_large(path: Path, max_bytes: int) -> str:
    return f"file source: {path} is larger than the {max_bytes:,}-byte limit (config max_bytes)"
