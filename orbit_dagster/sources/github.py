"""GitHub REST v3 templates: commits per day, stargazers (a daily snapshot), issues opened.

Config: `repo` (owner/name), `api_url` (GitHub Enterprise: https://HOST/api/v3), `token_env`
(variable holding a token, sent as `Authorization: Bearer`), optional `branch`, `author`,
`since` (ISO date) and `per_page`. Lists follow the `Link` header.
"""

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from orbit_dagster.sources.errors import SourceError
from orbit_dagster.sources.http_fetch import HttpPlan, bearer
from orbit_dagster.sources.pagination import Pagination
from orbit_dagster.sources.urls import check_url

DEFAULT_API_URL = "https://api.github.com"
# GitHub's maximum page size: fewer requests against the rate limit.
DEFAULT_PER_PAGE = "100"
REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


def check(config: Mapping[str, Any]) -> None:
    if not REPO.match(str(config["repo"])):
        raise SourceError(f"github: repo must be owner/name, got {config['repo']!r}")
    check_url(_api_url(config), key="api_url")
    if config.get("since"):
        _parse_time(str(config["since"]))


def commits_plan(config: Mapping[str, Any]) -> HttpPlan:
    return HttpPlan(
        url=f"{_api_url(config)}/repos/{config['repo']}/commits",
        headers=_headers(config),
        params=_list_params(config, branch="sha", author="author", since="since"),
        pagination=Pagination("link"),
    )


def stars_plan(config: Mapping[str, Any]) -> HttpPlan:
    return HttpPlan(
        url=f"{_api_url(config)}/repos/{config['repo']}",
        headers=_headers(config),
        shape=_stars_snapshot,
    )


def issues_plan(config: Mapping[str, Any]) -> HttpPlan:
    since = _parse_time(str(config["since"])) if config.get("since") else None

    def opened_issues(issues: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # The issues endpoint also lists pull requests, and its `since` filters by update
        # time; this metric counts issues by the time they were opened.
        return [
            issue
            for issue in issues
            if "pull_request" not in issue
            and (since is None or _parse_time(issue["created_at"]) >= since)
        ]

    return HttpPlan(
        url=f"{_api_url(config)}/repos/{config['repo']}/issues",
        headers=_headers(config),
        params={"state": "all", **_list_params(config, since="since")},
        pagination=Pagination("link"),
        shape=opened_issues,
    )


def _api_url(config: Mapping[str, Any]) -> str:
    return str(config.get("api_url") or DEFAULT_API_URL).rstrip("/")


def _headers(config: Mapping[str, Any]):
    return {
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        **bearer(config),
    }


def _list_params(config: Mapping[str, Any], **names: str) -> dict[str, str]:
    params = {"per_page": str(config.get("per_page") or DEFAULT_PER_PAGE)}
    params.update({param: str(config[key]) for key, param in names.items() if config.get(key)})
    return params


def _stars_snapshot(repo: dict[str, Any]) -> list[dict[str, Any]]:
    """Stars now, as a one-record list: the series grows by one point per refresh (per day,
    the last one wins), dated by the fetch itself since the repository has no such date."""
    if not isinstance(repo.get("stargazers_count"), int):
        raise SourceError("github: the repository response has no stargazers_count")
    return [
        {
            "repo": repo.get("full_name"),
            "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "stargazers_count": repo["stargazers_count"],
        }
    ]


def _parse_time(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise SourceError(f"github: since must be an ISO date or time, got {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
