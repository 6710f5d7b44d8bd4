"""Google Sheets API v4 `spreadsheets.values.get`: the rows of an A1 range, header row first.

Config: `spreadsheet_id`, `range` (A1 notation, e.g. `Sheet1!A1:C100`), `api_url` (default
Google's), and `key_env` (an API key, sent as `key=`) or `token_env` (an OAuth access token,
sent as `Authorization: Bearer`).
"""

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from orbit_dagster.sources.errors import SourceError
from orbit_dagster.sources.http_fetch import HttpPlan, Secret, bearer
from orbit_dagster.sources.urls import check_url

DEFAULT_API_URL = "https://sheets.googleapis.com"
SPREADSHEET_ID = re.compile(r"^[A-Za-z0-9_-]+$")


def check(config: Mapping[str, Any]) -> None:
    if not SPREADSHEET_ID.match(str(config["spreadsheet_id"])):
        raise SourceError(f"gsheets: spreadsheet_id looks wrong: {config['spreadsheet_id']!r}")
    if not (config.get("key_env") or config.get("token_env")):
        raise SourceError("gsheets: set key_env (API key) or token_env (OAuth token)")
    check_url(_api_url(config), key="api_url")


def values_plan(config: Mapping[str, Any]) -> HttpPlan:
    # The range is one path segment: a sheet name may hold spaces or slashes.
    sheet_range = quote(str(config["range"]), safe="!:$")
    params: dict[str, str | Secret] = {"majorDimension": "ROWS"}
    if config.get("key_env"):
        params["key"] = Secret(str(config["key_env"]), "key_env")
    return HttpPlan(
        url=f"{_api_url(config)}/v4/spreadsheets/{config['spreadsheet_id']}/values/{sheet_range}",
        headers=bearer(config),
        params=params,
        shape=_with_values,
    )


def _api_url(config: Mapping[str, Any]) -> str:
    return str(config.get("api_url") or DEFAULT_API_URL).rstrip("/")


def _with_values(body: dict[str, Any]) -> dict[str, Any]:
    """Sheets leaves `values` out for an empty range; say so rather than fail later."""
    if not body.get("values"):
        raise SourceError(f"gsheets: range {body.get('range')!r} has no values")
    return body
