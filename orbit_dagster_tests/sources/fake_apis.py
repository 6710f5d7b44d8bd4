"""Real HTTP servers on 127.0.0.1 that speak the APIs Orbit's templates call.

- GitHub REST v3: list commits (`sha`, `author`, `since`, `per_page`/`page`, `Link` header),
  get a repository (`stargazers_count`), list issues (`state`, `since`, pull requests mixed
  in, as GitHub does), `Authorization: Bearer` checked against the configured token.
- Google Sheets v4 `spreadsheets.values.get`, with an API key (`key=`) or a Bearer token.
- A generic JSON API paginated four ways: `Link` header, `next` URL in the body, `page`
  and `offset` parameters.
- Scripted failures on any path (`FakeApis.script`): 429 with Retry-After, 503, 500 then
  200, 401 with a message, an HTML page, truncated JSON, a response slower than the timeout.
Every request is recorded (method, path with query, headers) for the tests to inspect.
"""

import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from orbit_dagster_tests.servers import QuietHandler, local_server

GITHUB_DAYS = ["2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05"]


@dataclass
class Reply:
    """One scripted response: JSON (any value) or raw bytes, after an optional delay."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def rate_limited(retry_after: str = "1") -> Reply:
    return Reply(429, {"message": "API rate limit exceeded"}, {"Retry-After": retry_after})


def unavailable(retry_after: str | None = None) -> Reply:
    headers = {"Retry-After": retry_after} if retry_after else {}
    return Reply(503, {"message": "Service Unavailable"}, headers)


def html(status: int = 200) -> Reply:
    page = b"<!DOCTYPE html><html><body><h1>Bad gateway</h1></body></html>"
    return Reply(status, page, {"Content-Type": "text/html; charset=utf-8"})


def truncated_json() -> Reply:
    return Reply(200, b'{"data": [{"date": "2026-10-01", "value": 3}, {"date": "2026-1')


@dataclass
class Request:
    method: str
    target: str  # path and query, as sent
    headers: dict[str, str]

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.target).query).items()}


@dataclass
class FakeApis:
    base_url: str = ""
    # GitHub: the token every request must carry (None: anonymous access allowed).
    github_token: str | None = None
    stars: int = 1234
    # branch → commits, newest first, in the shape of GitHub's list-commits response.
    branches: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    issues: list[dict[str, Any]] = field(default_factory=list)
    # Sheets: accepted API key and OAuth token; spreadsheet id → rows (header first).
    sheets_key: str | None = None
    sheets_token: str | None = None
    sheets: dict[str, list[list[str]]] = field(default_factory=dict)
    # Generic API: records served by every paginated route.
    items: list[dict[str, Any]] = field(default_factory=list)
    scripts: dict[str, list[Reply]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)

    def script(self, path: str, *replies: Reply) -> None:
        """Replies for `path`, in order; the last one repeats."""
        self.scripts[path] = list(replies)

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]


def _commit(day: str, hour: int, login: str, branch: str) -> dict[str, Any]:
    date = f"{day}T{hour:02d}:00:00Z"
    sha = hashlib.sha1(f"{day} {hour} {login} {branch}".encode()).hexdigest()
    person = {"name": login.title(), "email": f"{login}@example.com", "date": date}
    return {
        "sha": sha,
        "commit": {"author": person, "committer": person, "message": f"work on {day}"},
        "author": {"login": login},
    }


def _default_data(apis: FakeApis) -> None:
    # Day i has i + 1 commits on main, alternating authors; "dev" has one commit a day.
    main = [
        _commit(day, hour, "ada" if hour % 2 else "bob", "main")
        for i, day in enumerate(GITHUB_DAYS)
        for hour in range(i + 1)
    ]
    apis.branches = {
        "main": sorted(main, key=lambda c: c["commit"]["author"]["date"], reverse=True),
        "dev": [_commit(day, 9, "ada", "dev") for day in reversed(GITHUB_DAYS)],
    }
    # Two issues and one pull request opened each day.
    apis.issues = [
        {
            "number": n,
            "title": f"item {n}",
            "state": "open",
            "comments": 7,
            "created_at": f"{day}T1{k}:00:00Z",
            "updated_at": f"{day}T1{k}:30:00Z",
            **({"pull_request": {"url": "https://example.com/pull"}} if k == 2 else {}),
        }
        for n, (day, k) in enumerate(((d, k) for d in GITHUB_DAYS for k in range(3)), start=1)
    ]
    apis.sheets = {
        "sheet123": [
            ["Date", "Signups", "Revenue"],
            ["2026-10-01", "176", "1,369.74"],
            ["2026-10-02", "164", "1,271.86"],
            ["2026-10-03", "167", "2,051.84"],
        ]
    }
    apis.items = [{"date": f"2026-10-{d:02d}", "value": d * 10} for d in range(1, 8)]


@contextmanager
def fake_apis() -> Iterator[FakeApis]:
    apis = FakeApis()
    _default_data(apis)

    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, so connection reuse is exercised

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._handle()

        def do_POST(self) -> None:  # noqa: N802
            self._handle()

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Request(self.command, self.path, dict(self.headers.items()))
            apis.requests.append(request)
            script = apis.scripts.get(request.path)
            if script:
                reply = script.pop(0) if len(script) > 1 else script[0]
            else:
                reply = _route(apis, request, body)
            time.sleep(reply.delay)
            raw = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json; charset=utf-8", **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test); nothing to answer

    with local_server(Handler) as apis.base_url:
        yield apis


def _route(apis: FakeApis, request: Request, body: bytes) -> Reply:
    parts = [unquote(p) for p in request.path.strip("/").split("/")]
    if parts[0] == "repos" and len(parts) >= 3:
        return _github(apis, request, parts[3:])
    if parts[:2] == ["v4", "spreadsheets"] and len(parts) == 5 and parts[3] == "values":
        return _sheets(apis, request, parts[2], parts[4])
    if parts[0] == "api":
        return _generic(apis, request, parts[1:], body)
    return Reply(404, {"message": "Not Found"})


def _github(apis: FakeApis, request: Request, rest: list[str]) -> Reply:
    if apis.github_token is not None:
        if request.headers.get("Authorization") != f"Bearer {apis.github_token}":
            return Reply(
                401,
                {
                    "message": "Bad credentials",
                    "documentation_url": "https://docs.github.com/rest",
                },
            )
    query = request.query
    if rest == []:
        return Reply(200, {"full_name": "orbit/app", "stargazers_count": apis.stars})
    if rest == ["commits"]:
        commits = apis.branches.get(query.get("sha", "main"))
        if commits is None:
            return Reply(404, {"message": "No commit found for SHA: " + query["sha"]})
        if "author" in query:
            commits = [
                c
                for c in commits
                if query["author"] in (c["author"]["login"], c["commit"]["author"]["email"])
            ]
        if "since" in query:
            since = _time(query["since"])
            commits = [c for c in commits if _time(c["commit"]["author"]["date"]) >= since]
        return _github_page(apis, request, commits)
    if rest == ["issues"]:
        issues = list(reversed(apis.issues))  # newest first
        if "since" in query:  # GitHub filters issues by update time
            since = _time(query["since"])
            issues = [i for i in issues if _time(i["updated_at"]) >= since]
        return _github_page(apis, request, issues)
    return Reply(404, {"message": "Not Found"})


def _github_page(apis: FakeApis, request: Request, items: list[Any]) -> Reply:
    """One page of a GitHub list with its `Link` header (next, last)."""
    query = request.query
    per_page = min(int(query.get("per_page", 30)), 100)
    page = int(query.get("page", 1))
    last = max(1, -(-len(items) // per_page))
    links = []
    if page < last:
        links.append(f'<{_url(apis, request, page=page + 1)}>; rel="next"')
        links.append(f'<{_url(apis, request, page=last)}>; rel="last"')
    headers = {"Link": ", ".join(links)} if links else {}
    return Reply(200, items[(page - 1) * per_page : page * per_page], headers)


def _sheets(apis: FakeApis, request: Request, spreadsheet_id: str, a1_range: str) -> Reply:
    key_ok = apis.sheets_key is not None and request.query.get("key") == apis.sheets_key
    token_ok = apis.sheets_token is not None and request.headers.get("Authorization") == (
        f"Bearer {apis.sheets_token}"
    )
    if not (key_ok or token_ok):
        return Reply(
            403 if "key" in request.query else 401,
            {
                "error": {
                    "code": 403,
                    "message": "The caller does not have permission",
                    "status": "PERMISSION_DENIED",
                }
            },
        )
    rows = apis.sheets.get(spreadsheet_id)
    if rows is None:
        return Reply(
            404,
            {
                "error": {
                    "code": 404,
                    "message": "Requested entity was not found.",
                    "status": "NOT_FOUND",
                }
            },
        )
    body: dict[str, Any] = {"range": a1_range, "majorDimension": "ROWS"}
    if rows:
        body["values"] = rows
    return Reply(200, body)


def _generic(apis: FakeApis, request: Request, rest: list[str], body: bytes) -> Reply:
    query = request.query
    size = int(query.get("limit", 3))
    if rest == ["series"]:
        return Reply(200, {"data": apis.items})
    if rest == ["echo"]:  # what the request carried, to check method, query and body
        return Reply(200, {"method": request.method, "query": query, "body": json.loads(body)})
    if rest == ["paged"]:  # ?page=N (from 1), records under "data"
        page = int(query.get("page", 1))
        return Reply(200, {"data": apis.items[(page - 1) * size : page * size]})
    if rest == ["offset"]:  # ?offset=N
        offset = int(query.get("offset", 0))
        return Reply(200, {"results": apis.items[offset : offset + size]})
    if rest == ["cursor"]:  # {"data": [...], "links": {"next": URL or null}}
        start = int(query.get("cursor", 0))
        more = start + size < len(apis.items)
        next_url = _url(apis, request, cursor=start + size) if more else None
        return Reply(200, {"data": apis.items[start : start + size], "links": {"next": next_url}})
    if rest == ["linked"]:  # a bare list with a Link header
        return _github_page(apis, request, apis.items)
    return Reply(404, {"message": "Not Found"})


def _url(apis: FakeApis, request: Request, **changes: Any) -> str:
    return f"{apis.base_url}{request.path}?{urlencode({**request.query, **changes})}"


def _time(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
