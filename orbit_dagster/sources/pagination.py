"""Following the pages of a paginated JSON API and joining their records into one payload.

Strategies (config `pagination`): `none`; `link` (the `Link: <…>; rel="next"` header, as GitHub
does); `next-url:PATH` (a next-page URL at a dotted path in the body); `page:PARAM` (a page
number parameter, from its configured value or 1, until a page has no records); and
`offset:PARAM` (an offset advanced by the records received). A page cap bounds every fetch.
The joined payload is the first page with its list of records replaced by all of them.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import httpx

from orbit_dagster.sources.errors import SourceError
from orbit_dagster.sources.http import HttpRequest, Page
from orbit_dagster.sources.options import get_path

KINDS_WITHOUT_ARGUMENT = ("none", "link")
KINDS_WITH_ARGUMENT = ("next-url", "page", "offset")


@dataclass(frozen=True)
class Pagination:
    kind: str = "none"
    argument: str = ""


def parse_pagination(spec: str | None) -> Pagination:
    kind, _, argument = (spec or "none").strip().partition(":")
    if (kind in KINDS_WITHOUT_ARGUMENT and not argument) or (
        kind in KINDS_WITH_ARGUMENT and argument
    ):
        return Pagination(kind, argument)
    raise SourceError(
        f"pagination must be none, link, next-url:PATH, page:PARAM or offset:PARAM, got {spec!r}"
    )


def paginate(
    send: Callable[[HttpRequest], Page],
    request: HttpRequest,
    pagination: Pagination,
    records_path: str | None,
    max_pages: int,
) -> tuple[Any, str | None]:
    """The joined payload and a note on the pages read (None when not paginated)."""
    page = send(request)
    if pagination.kind == "none":
        return page.payload, None
    first = page.payload
    path = records_path if records_path is not None else _guess_records_path(first)
    records: list[Any] = []
    count = 0
    capped = False
    while True:
        count += 1
        items = get_path(page.payload, path) if path else page.payload
        if not isinstance(items, list):
            raise SourceError(
                f"pagination: page {count} has no list of records at "
                f"{path or 'the top level'!r}; set config records_path"
            )
        records.extend(items)
        following = _next_request(pagination, request, page, items)
        if following is None:
            break
        if count >= max_pages:
            capped = True
            break
        request = following
        page = send(request)
    note = f"{count} page(s), {len(records)} records"
    if capped:
        note += f"; stopped at the page cap (max_pages={max_pages}), more pages remain"
    return _with_records(first, path.split(".") if path else [], records), note


def _guess_records_path(payload: Any) -> str:
    """The list a page is about: the payload itself, or its first list-valued key."""
    if isinstance(payload, dict):
        for key, value in payload.items():
            if isinstance(value, list):
                return key
    return ""


def _with_records(payload: Any, parts: list[str], records: list[Any]) -> Any:
    if not parts:
        return records
    return {**payload, parts[0]: _with_records(payload[parts[0]], parts[1:], records)}


def _next_request(
    pagination: Pagination, request: HttpRequest, page: Page, items: list[Any]
) -> HttpRequest | None:
    if pagination.kind == "link":
        target = page.links.get("next", {}).get("url")
        return _follow(request, page, target) if target else None
    if pagination.kind == "next-url":
        target = get_path(page.payload, pagination.argument)
        if target in (None, ""):
            return None
        if not isinstance(target, str):
            raise SourceError(f"pagination: {pagination.argument} is not a URL: {target!r}")
        return _follow(request, page, target)
    if not items:  # page and offset: an empty page is the end
        return None
    name = pagination.argument
    start = 1 if pagination.kind == "page" else 0
    try:
        current = int(request.params.get(name) or start)
    except ValueError:
        raise SourceError(f"pagination: parameter {name} is not a number") from None
    step = 1 if pagination.kind == "page" else len(items)
    return replace(request, params={**request.params, name: str(current + step)})


def _follow(request: HttpRequest, page: Page, target: str) -> HttpRequest:
    """The request for a next-page URL: same origin only, since it carries the credentials."""
    url = page.url.join(target)
    if (url.scheme, url.host, url.port) != (page.url.scheme, page.url.host, page.url.port):
        raise SourceError(
            f"pagination: refusing to follow a next-page URL to another origin ({url.host}): "
            "the request carries this metric's credentials"
        )
    # Parameters the next URL does not carry itself (an API key, a filter) are kept.
    present = set(httpx.URL(url).params.keys())
    params = {k: v for k, v in request.params.items() if k not in present}
    return replace(request, url=str(url), params=params)
