"""Checks on a local file before anything is sent anywhere, its SHA-256 and its S3 key.

Content types come from the file's magic bytes through `filetype` (pure Python, no libmagic,
knows HEIC and WebP) and from its extension through `mimetypes`; the two must agree. File
names are cleaned with `pathvalidate`, which handles reserved names, control characters and
length limits on every platform, rather than a hand-written regex.
"""

import datetime as dt
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

import filetype
from pathvalidate import sanitize_filename

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
ACCEPTED_TYPES = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/tiff": ".tiff",
    "image/heic": ".heic",
    "image/webp": ".webp",
}
# Extensions `mimetypes` does not know on every platform.
EXTRA_EXTENSIONS = {".heic": "image/heic", ".heif": "image/heic", ".webp": "image/webp"}
MAX_NAME_BYTES = 200


class DocumentInputError(Exception):
    """A file that cannot be processed; the message names the file and the reason."""


@dataclass(frozen=True)
class LocalDocument:
    """A checked local file, identified by the SHA-256 of its bytes."""

    path: str
    file_name: str
    size: int
    sha256: str
    content_type: str


def inspect_file(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> LocalDocument:
    """Check the file (exists, not empty, not too big, a supported type) and identify it."""
    path = Path(path)
    if not path.exists():
        raise DocumentInputError(f"{path}: no such file")
    if not path.is_file():
        raise DocumentInputError(f"{path}: not a regular file")
    size = path.stat().st_size
    if size == 0:
        raise DocumentInputError(f"{path}: the file is empty")
    if size > max_bytes:
        raise DocumentInputError(
            f"{path}: {size} bytes is over the size limit of {max_bytes} bytes"
        )
    with path.open("rb") as handle:
        head = handle.read(8192)
        handle.seek(0)
        sha256 = hashlib.file_digest(handle, "sha256").hexdigest()
    return LocalDocument(
        path=str(path.resolve()),
        file_name=path.name,
        size=size,
        sha256=sha256,
        content_type=content_type(path.name, head, label=str(path)),
    )


def content_type(file_name: str, head: bytes, *, label: str) -> str:
    """The accepted content type of a file from its first bytes, checked against its name."""
    kind = filetype.guess(head)
    detected = kind.mime if kind else None
    if detected == "image/heif":
        detected = "image/heic"
    if detected not in ACCEPTED_TYPES:
        accepted = ", ".join(ext.lstrip(".").upper() for ext in ACCEPTED_TYPES.values())
        raise DocumentInputError(
            f"{label}: unsupported file type ({detected or 'not recognised'}); accepted: {accepted}"
        )
    suffix = Path(file_name).suffix.lower()
    by_name = EXTRA_EXTENSIONS.get(suffix) or mimetypes.types_map.get(suffix)
    if by_name is not None and by_name != detected:
        raise DocumentInputError(f"{label}: the name says {by_name} but the content is {detected}")
    return detected


def safe_file_name(file_name: str, content_type: str) -> str:
    """The last path segment of `file_name`, cleaned for an S3 key; never empty or `..`."""
    # Either separator may come from a hostile name; only the last segment is kept.
    base = PureWindowsPath(PurePosixPath(file_name).name).name
    clean = sanitize_filename(_truncate(base), platform="universal", replacement_text="_")
    clean = clean.strip(". ")
    return clean or "document" + ACCEPTED_TYPES[content_type]


def _truncate(name: str) -> str:
    """At most MAX_NAME_BYTES of UTF-8, cut in the stem so that the extension survives."""
    if len(name.encode()) <= MAX_NAME_BYTES:
        return name
    suffix = Path(name).suffix[:16]
    stem = name[: len(name) - len(suffix)].encode()[: MAX_NAME_BYTES - len(suffix.encode())]
    return stem.decode(errors="ignore") + suffix


def s3_key(sha256: str, file_name: str, content_type: str, when: dt.datetime) -> str:
    """`documents/<yyyy>/<mm>/<sha256>/<sanitised file name>`."""
    name = safe_file_name(file_name, content_type)
    return f"documents/{when:%Y}/{when:%m}/{sha256}/{name}"
