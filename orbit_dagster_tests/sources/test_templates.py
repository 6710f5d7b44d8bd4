"""GitHub, Google Sheets and http-json templates against local servers speaking their APIs."""

import pytest

from orbit_dagster.sources import SourceError, fetch, fetch_payload
from orbit_dagster.sources.templates import validate_config
from orbit_dagster_tests.sources.fake_apis import GITHUB_DAYS, Reply, fake_apis

TOKEN = "ghp_test_token_0123456789"


@pytest.fixture
def apis(monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    with fake_apis() as server:
        server.github_token = TOKEN
        yield server


def github(apis, **config: str) -> dict[str, str]:
    return {"repo": "orbit/app", "api_url": apis.base_url, "token_env": "GITHUB_TOKEN", **config}


def test_github_commits_follows_link_pages_with_a_bearer_token(apis):
    fetched = fetch("github-commits", github(apis, per_page="4"))
    assert len(fetched.payload) == 15  # 1 + 2 + 3 + 4 + 5 commits on main
    assert fetched.payload == apis.branches["main"]  # all pages, in order, none twice
    calls = apis.requests_to("/repos/orbit/app/commits")
    assert [c.query.get("page", "1") for c in calls] == ["1", "2", "3", "4"]
    assert {c.query["per_page"] for c in calls} == {"4"}
    assert {c.headers["Authorization"] for c in calls} == {f"Bearer {TOKEN}"}
    assert calls[0].headers["Accept"] == "application/vnd.github+json"
    assert "4 page(s), 15 records" in fetched.log
    assert TOKEN not in fetched.log


def test_github_commits_passes_branch_author_and_since(apis):
    payload = fetch_payload(
        "github-commits", github(apis, branch="dev", author="ada", since="2026-10-04")
    )
    assert [c["commit"]["author"]["date"][:10] for c in payload] == ["2026-10-05", "2026-10-04"]
    query = apis.requests_to("/repos/orbit/app/commits")[0].query
    assert query == {"per_page": "100", "sha": "dev", "author": "ada", "since": "2026-10-04"}


def test_github_page_cap_stops_and_says_so(apis):
    fetched = fetch("github-commits", github(apis, per_page="2", max_pages="3"))
    assert len(fetched.payload) == 6
    assert "stopped at the page cap (max_pages=3)" in fetched.log


def test_github_bad_token_fails_at_once_with_githubs_message(apis, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_wrong_token_value")
    with pytest.raises(SourceError, match="HTTP 401 .*: Bad credentials$") as caught:
        fetch_payload("github-commits", github(apis))
    assert not caught.value.retryable
    assert "ghp_wrong_token_value" not in str(caught.value)
    assert len(apis.requests) == 1


def test_github_stars_is_a_snapshot_of_stargazers_count(apis):
    [snapshot] = fetch_payload("github-stars", github(apis))
    assert snapshot["stargazers_count"] == 1234 and snapshot["repo"] == "orbit/app"
    assert snapshot["fetched_at"].endswith("+00:00")


def test_github_issues_opened_drops_pull_requests_and_older_issues(apis):
    payload = fetch_payload("github-issues-opened", github(apis, per_page="4", since="2026-10-03"))
    assert all("pull_request" not in issue for issue in payload)
    days = sorted({issue["created_at"][:10] for issue in payload})
    assert days == GITHUB_DAYS[2:]
    assert len(payload) == 2 * len(days)
    assert apis.requests_to("/repos/orbit/app/issues")[0].query["state"] == "all"


def test_github_enterprise_api_url_and_anonymous_access(apis):
    apis.github_token = None
    config = {"repo": "orbit/app", "api_url": f"{apis.base_url}/"}
    assert fetch_payload("github-stars", config)[0]["stargazers_count"] == 1234
    assert "Authorization" not in apis.requests[0].headers


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"repo": "orbit"}, "repo must be owner/name"),
        ({"repo": "a/b", "api_url": "ftp://x"}, "api_url must be an absolute http"),
        ({"repo": "a/b", "since": "last week"}, "since must be an ISO date"),
        ({"repo": "a/b", "max_pages": "0"}, "max_pages must be at least 1"),
        ({"repo": "a/b", "timeout": "soon"}, "timeout must be a number"),
    ],
)
def test_github_config_is_checked_when_a_metric_is_added(config, message):
    with pytest.raises(SourceError, match=message):
        validate_config("github-commits", config)


SHEET_KEY = "AIzaSy-test-key-0123456789"


def sheets(apis, **config: str) -> dict[str, str]:
    return {
        "spreadsheet_id": "sheet123",
        "range": "Sheet1!A1:C4",
        "api_url": apis.base_url,
        **config,
    }


def test_gsheets_values_with_an_api_key(apis, monkeypatch):
    monkeypatch.setenv("SHEETS_KEY", SHEET_KEY)
    apis.sheets_key = SHEET_KEY
    fetched = fetch("gsheets-values", sheets(apis, key_env="SHEETS_KEY"))
    assert fetched.payload["values"][0] == ["Date", "Signups", "Revenue"]
    assert fetched.payload["range"] == "Sheet1!A1:C4"
    request = apis.requests[0]
    assert request.path == "/v4/spreadsheets/sheet123/values/Sheet1!A1:C4"
    assert request.query["key"] == SHEET_KEY
    assert SHEET_KEY not in fetched.log and "key=REDACTED" in fetched.log


def test_gsheets_values_with_an_oauth_token_and_a_sheet_name_with_spaces(apis, monkeypatch):
    monkeypatch.setenv("SHEETS_TOKEN", "ya29.test-oauth-token")
    apis.sheets_token = "ya29.test-oauth-token"
    payload = fetch_payload(
        "gsheets-values", sheets(apis, token_env="SHEETS_TOKEN", range="Q4 / Sales!A1:B")
    )
    assert payload["range"] == "Q4 / Sales!A1:B"
    assert apis.requests[0].target.startswith("/v4/spreadsheets/sheet123/values/Q4%20%2F%20Sales")


def test_gsheets_errors_show_googles_message(apis, monkeypatch):
    monkeypatch.setenv("SHEETS_KEY", "AIzaSy-wrong-key")
    apis.sheets_key = SHEET_KEY
    with pytest.raises(SourceError, match="HTTP 403 .*The caller does not have permission$"):
        fetch_payload("gsheets-values", sheets(apis, key_env="SHEETS_KEY"))
    apis.sheets["empty"] = []
    monkeypatch.setenv("SHEETS_KEY", SHEET_KEY)
    with pytest.raises(SourceError, match="range 'Sheet1!A1:C4' has no values"):
        fetch_payload("gsheets-values", sheets(apis, key_env="SHEETS_KEY", spreadsheet_id="empty"))


def test_gsheets_needs_a_key_or_a_token():
    with pytest.raises(SourceError, match="set key_env"):
        validate_config("gsheets-values", {"spreadsheet_id": "abc", "range": "A1:B2"})


@pytest.mark.parametrize(
    ("path", "pagination", "extra"),
    [
        ("/api/paged", "page:page", {}),
        ("/api/offset", "offset:offset", {"query.limit": "2"}),
        ("/api/cursor", "next-url:links.next", {}),
        ("/api/linked", "link", {"query.per_page": "3"}),
    ],
)
def test_http_json_pagination_joins_every_page(apis, path, pagination, extra):
    config = {"url": f"{apis.base_url}{path}", "pagination": pagination, **extra}
    payload = fetch_payload("http-json", config)
    records = payload if isinstance(payload, list) else next(iter(payload.values()))
    assert records == apis.items
    assert len(apis.requests) >= 3


def test_http_json_records_path_and_page_cap(apis):
    config = {
        "url": f"{apis.base_url}/api/cursor",
        "pagination": "next-url:links.next",
        "records_path": "data",
        "max_pages": "2",
    }
    fetched = fetch("http-json", config)
    assert fetched.payload["data"] == apis.items[:6]
    assert "stopped at the page cap" in fetched.log
    assert len(apis.requests) == 2


def test_http_json_refuses_a_next_url_to_another_origin(apis, monkeypatch):
    monkeypatch.setenv("API_TOKEN", "tok-1234567")
    elsewhere = {"data": [1], "next": "http://203.0.113.9/steal"}
    apis.script("/api/evil", Reply(200, elsewhere))
    config = {"url": f"{apis.base_url}/api/evil", "pagination": "next-url:next"}
    with pytest.raises(SourceError, match="another origin"):
        fetch_payload("http-json", {**config, "token_env": "API_TOKEN"})


def test_http_json_method_headers_query_and_body(apis, monkeypatch):
    monkeypatch.setenv("PARTNER_KEY", "partner-secret-42")
    config = {
        "url": f"{apis.base_url}/api/echo",
        "method": "post",
        "header.X-Api-Key": "env:PARTNER_KEY",
        "header.X-Team": "growth",
        "query.region": "eu",
        "body": '{"metric": "signups"}',
    }
    fetched = fetch("http-json", config)
    body = {"metric": "signups"}
    assert fetched.payload == {"method": "POST", "query": {"region": "eu"}, "body": body}
    sent = apis.requests[0].headers
    assert sent["X-Api-Key"] == "partner-secret-42" and sent["X-Team"] == "growth"
    assert "partner-secret-42" not in fetched.log


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"header.Authorization": "Bearer abc"}, "looks like a credential"),
        ({"query.api_key": "abc"}, "looks like a credential"),
        ({"pagination": "cursor"}, "pagination must be none, link"),
        ({"pagination": "page"}, "pagination must be none, link"),
        ({"method": "TRACE"}, "method must be one of"),
        ({"body": "{not json"}, "body is not valid JSON"),
    ],
)
def test_http_json_config_is_checked(config, message):
    with pytest.raises(SourceError, match=message):
        validate_config("http-json", {"url": "https://example.com/x", **config})
