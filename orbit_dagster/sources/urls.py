"""The URL check shared by the HTTP templates, run when a metric is added."""

import httpx

from orbit_dagster.sources.errors import SourceError


def check_url(url: str, *, key: str = "url") -> None:
    """Only absolute http(s) URLs: `file://` and friends would read the local machine."""
    try:
        parsed = httpx.URL(url) if "://" in url else None
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise SourceError(f"{key} must be an absolute http(s) URL, got {url!r}")
