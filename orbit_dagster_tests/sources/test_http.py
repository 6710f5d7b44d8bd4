"""The HTTP policy of every HTTP template, against real servers on 127.0.0.1: timeouts,
Retry-After, which statuses are retried, non-JSON bodies, and redaction in errors and logs.
"""

import re
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from orbit_dagster.sources import SourceError, fetch
from orbit_dagster_tests.sources.fake_apis import (
    Reply,
    fake_apis,
    html,
    rate_limited,
    truncated_json,
    unavailable,
)

# Small limits keep the failure tests fast; production defaults are 30 s and 3 retries.
FAST = {"timeout": "2", "backoff": "0.05"}


@pytest.fixture
def apis():
    with fake_apis() as server:
        yield server


def fetch_url(apis, path: str, **config: str):
    return fetch("http-json", {"url": f"{apis.base_url}{path}", **FAST, **config})


def test_429_waits_for_retry_after_then_succeeds(apis):
    apis.script("/api/limited", rate_limited("1"), Reply(200, {"data": [1]}))
    started = time.monotonic()
    fetched = fetch_url(apis, "/api/limited")
    assert fetched.payload == {"data": [1]}
    assert time.monotonic() - started >= 0.95  # honoured Retry-After, not the 0.05 s backoff
    assert len(apis.requests_to("/api/limited")) == 2
    assert "HTTP 429" in fetched.log and "retry in 1.0s" in fetched.log


def test_503_honours_retry_after_as_http_date(apis):
    # An HTTP date two seconds ahead, cut to whole seconds: a wait of between 1 and 2 s.
    when = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 2))
    apis.script("/api/down", unavailable(when), Reply(200, {"ok": True}))
    started = time.monotonic()
    assert fetch_url(apis, "/api/down").payload == {"ok": True}
    assert time.monotonic() - started >= 0.9


def test_retry_after_beyond_the_cap_is_left_to_the_engine(apis):
    apis.script("/api/later", rate_limited("3600"))
    started = time.monotonic()
    with pytest.raises(SourceError, match="HTTP 429.*retry after 3600 s") as caught:
        fetch_url(apis, "/api/later")
    assert time.monotonic() - started < 1
    assert caught.value.retryable and caught.value.retry_after == 3600
    assert len(apis.requests_to("/api/later")) == 1


def test_500_then_200_is_retried_with_backoff(apis):
    apis.script("/api/flaky", Reply(500, {"message": "boom"}), Reply(200, {"data": [2]}))
    assert fetch_url(apis, "/api/flaky").payload == {"data": [2]}
    assert len(apis.requests_to("/api/flaky")) == 2


def test_persistent_5xx_gives_up_after_the_configured_retries(apis):
    apis.script("/api/down", unavailable())
    with pytest.raises(SourceError, match=r"HTTP 503.*gave up after 3 attempts") as caught:
        fetch_url(apis, "/api/down", retries="2")
    assert caught.value.retryable
    assert len(apis.requests_to("/api/down")) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_other_4xx_fail_at_once_with_the_service_message(apis, status):
    apis.script("/api/refused", Reply(status, {"message": f"nope {status}"}))
    with pytest.raises(SourceError, match=f"answered HTTP {status} .*: nope {status}$") as caught:
        fetch_url(apis, "/api/refused")
    assert not caught.value.retryable
    assert len(apis.requests_to("/api/refused")) == 1


@pytest.mark.parametrize("status", [408, 429])
def test_408_and_429_are_retried(apis, status):
    apis.script("/api/again", Reply(status, {"message": "later"}), Reply(200, [1]))
    assert fetch_url(apis, "/api/again").payload == [1]


def test_403_with_exhausted_rate_limit_is_retried(apis):
    reset = str(int(time.time()))  # already due: retry at once
    exhausted = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
    apis.script("/api/quota", Reply(403, {"message": "rate limit"}, exhausted), Reply(200, [3]))
    assert fetch_url(apis, "/api/quota").payload == [3]


def test_google_style_error_message_is_shown(apis):
    error = {"error": {"code": 400, "message": "Unable to parse range: Nope!A1", "status": "X"}}
    apis.script("/api/google", Reply(400, error))
    with pytest.raises(SourceError, match="Unable to parse range: Nope!A1"):
        fetch_url(apis, "/api/google")


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (html(200), "HTTP 200 with a body that is not JSON (text/html; charset=utf-8, 61 bytes"),
        (truncated_json(), "not JSON (application/json; charset=utf-8, 62 bytes, Unterminated"),
        (Reply(200, b""), "HTTP 200 with an empty body (application/json"),
        (html(502), "HTTP 502 (text/html; charset=utf-8): '<!DOCTYPE html>"),
    ],
)
def test_bodies_that_are_not_json_name_status_type_and_first_bytes(apis, reply, expected):
    apis.script("/api/odd", reply)
    with pytest.raises(SourceError, match=re.escape(expected)) as caught:
        fetch_url(apis, "/api/odd", retries="0")
    # A broken body from a healthy service is not retried; a 5xx page is.
    assert caught.value.retryable == (reply.status >= 500)


def test_a_response_slower_than_the_timeout_fails_clearly(apis):
    apis.script("/api/slow", Reply(200, {"late": True}, delay=1.5))
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"GET .*/api/slow timed out after 0.2 s") as caught:
        fetch_url(apis, "/api/slow", timeout="0.2", retries="0")
    assert time.monotonic() - started < 1.2
    assert caught.value.retryable


def test_a_timeout_is_retried(apis):
    apis.script("/api/slow-once", Reply(200, {}, delay=1.0), Reply(200, {"ok": 1}))
    assert fetch_url(apis, "/api/slow-once", timeout="0.3", retries="1").payload == {"ok": 1}


def test_unreachable_service_names_the_url_and_is_retryable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nothing listens there
    url = f"http://127.0.0.1:{port}/"
    with pytest.raises(SourceError, match=f"GET {url} failed: .*gave up after 2 attempts") as e:
        fetch("http-json", {"url": url, "retries": "1", "backoff": "0.01"})
    assert e.value.retryable


def test_tokens_and_keys_are_redacted_from_errors_and_logs(apis, monkeypatch):
    secret = "s3cr3t-token-value"
    monkeypatch.setenv("API_TOKEN", secret)
    # A service that echoes the credential back in its error (some do).
    apis.script("/api/echo-secret", Reply(401, {"message": f"token {secret} is revoked"}))
    with pytest.raises(SourceError) as caught:
        fetch_url(apis, "/api/echo-secret", token_env="API_TOKEN", **{"query.key": "env:API_TOKEN"})
    assert secret not in str(caught.value)
    assert "token REDACTED is revoked" in str(caught.value)
    assert "key=REDACTED" in str(caught.value)
    apis.script("/api/ok", Reply(200, {"echo": secret}))
    fetched = fetch_url(apis, "/api/ok", **{"query.key": "env:API_TOKEN"})
    assert secret not in fetched.log and "key=REDACTED" in fetched.log
    # The payload is kept between a run's steps and shown to the model: redacted like a sink.
    assert fetched.payload == {"echo": "REDACTED"}


def test_a_missing_secret_variable_is_named_not_guessed(apis, monkeypatch):
    monkeypatch.delenv("NOT_SET_TOKEN", raising=False)
    with pytest.raises(SourceError, match="NOT_SET_TOKEN \\(named by config token_env\\) is not"):
        fetch_url(apis, "/api/series", token_env="NOT_SET_TOKEN")
    assert apis.requests == []


def test_connections_are_reused_across_pages(apis):
    fetched = fetch_url(apis, "/api/paged", pagination="page:page")
    assert len(fetched.payload["data"]) == len(apis.items)
    ports = {r.headers.get("Host") for r in apis.requests}
    assert len(ports) == 1 and len(apis.requests) == 4


def test_concurrent_fetches_are_independent(apis):
    """Metrics fetched at once: a slow one and a failing one never hold up or fail the rest."""
    apis.script("/api/slow", Reply(200, {"data": [1]}, delay=1.0))
    apis.script("/api/broken", Reply(401, {"message": "no"}))
    paths = ["/api/slow", "/api/broken"] + ["/api/series"] * 6

    def one(path: str):
        try:
            return fetch_url(apis, path).payload
        except SourceError as error:
            return error

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(paths)) as pool:
        results = list(pool.map(one, paths))
    assert time.monotonic() - started < 1.8  # in parallel: about the slowest one, not the sum
    assert results[0] == {"data": [1]}
    assert isinstance(results[1], SourceError) and "HTTP 401" in str(results[1])
    assert all(r == {"data": apis.items} for r in results[2:])
