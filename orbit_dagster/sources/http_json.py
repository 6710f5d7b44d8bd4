"""The `http-json` template: any JSON endpoint, with headers, query, body and pagination.

Config: `url`, `method` (GET by default), `token_env` (Bearer token), `header.NAME=VALUE`,
`query.NAME=VALUE`, `body` (JSON text), `pagination` (none | link | next-url:PATH | page:PARAM
| offset:PARAM), `records_path` (the list to join across pages). A header or query value
written `env:VARIABLE` is read from the environment at fetch time, so that a secret (say an
`X-Api-Key`) stays out of the metric row; a literal credential is refused.
"""

import json
from collections.abc import Mapping
from typing import Any

from orbit_dagster.sources.errors import SourceError
from orbit_dagster.sources.http_fetch import HttpPlan, Secret, bearer
from orbit_dagster.sources.pagination import parse_pagination
from orbit_dagster.sources.urls import ENV_PREFIX, check_url

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def check(config: Mapping[str, Any]) -> None:
    check_url(str(config["url"]))
    if _method(config) not in METHODS:
        raise SourceError(f"http-json: method must be one of {', '.join(METHODS)}")
    parse_pagination(config.get("pagination"))
    _body(config)
    # A literal credential in a header or query value: refused for every template's config
    # by `urls.check_no_secrets`.


def plan(config: Mapping[str, Any]) -> HttpPlan:
    return HttpPlan(
        url=str(config["url"]),
        method=_method(config),
        headers={**_prefixed(config, "header."), **bearer(config)},
        params=_prefixed(config, "query."),
        json_body=_body(config),
        pagination=parse_pagination(config.get("pagination")),
        records_path=config.get("records_path") or None,
    )


def _method(config: Mapping[str, Any]) -> str:
    return str(config.get("method") or "GET").upper()


def _body(config: Mapping[str, Any]) -> Any:
    body = config.get("body")
    if not isinstance(body, str):
        return body  # None, or already decoded when the metric was added from Python
    try:
        return json.loads(body)
    except json.JSONDecodeError as error:
        raise SourceError(f"http-json: body is not valid JSON ({error.msg})") from None


def _prefixed(config: Mapping[str, Any], prefix: str) -> dict[str, str | Secret]:
    values: dict[str, str | Secret] = {}
    for key, value in config.items():
        if key.startswith(prefix):
            text = str(value)
            values[key.removeprefix(prefix)] = (
                Secret(text.removeprefix(ENV_PREFIX), key) if text.startswith(ENV_PREFIX) else text
            )
    return values
