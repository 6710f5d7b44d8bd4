"""The `http-json` template: GET a URL and decode its JSON body, with clear failures."""

import json
from collections.abc import Mapping
from typing import Any

import httpx

from orbit_dagster.sources.errors import SourceError

# Connect fast, allow slow APIs a while to answer; never hang a run forever.
TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def check_url(url: str) -> None:
    """Only absolute http(s) URLs: `file://` and friends would read the local machine."""
    parsed = httpx.URL(url) if "://" in url else None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise SourceError(f"http-json: url must be an absolute http(s) URL, got {url!r}")


def fetch(config: Mapping[str, Any]) -> Any:
    url = str(config["url"])
    try:
        response = httpx.get(url, timeout=TIMEOUT, follow_redirects=True)
    except httpx.HTTPError as error:
        raise SourceError(f"http-json: request to {url} failed: {error}") from None
    return decode_json_response(response)


def decode_json_response(response: httpx.Response) -> Any:
    """The decoded JSON body, or a SourceError naming status, content type and first bytes."""
    content_type = response.headers.get("content-type", "(none)")
    if response.is_error:
        raise SourceError(
            f"{response.request.url} answered HTTP {response.status_code} ({content_type}): "
            f"{response.content[:200]!r}"
        )
    try:
        return json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise SourceError(
            f"{response.request.url} answered HTTP {response.status_code} with a body that is "
            f"not JSON ({content_type}, {len(response.content)} bytes): "
            f"{response.content[:200]!r}"
        ) from None
