"""The Veryfi client against the local Veryfi server: headers, signing, lookup, errors."""

import datetime as dt
import email.utils

import pytest

from orbit_dagster.documents.veryfi import (
    VeryfiClient,
    VeryfiRejected,
    VeryfiSettings,
    VeryfiUnavailable,
    retry_after_seconds,
    signature,
)
from orbit_dagster_tests.documents import veryfi_server as vs

FILE = {"file_data": "JVBERi0xLjcK"}


def client(server: vs.VeryfiServer, **overrides) -> VeryfiClient:
    settings = {
        "client_id": vs.CLIENT_ID,
        "username": vs.USERNAME,
        "api_key": vs.API_KEY,
        "client_secret": server.client_secret,
        "base_url": server.base_url,
        "timeout_ms": 2000,
    }
    return VeryfiClient(VeryfiSettings(**{**settings, **overrides}))


@pytest.fixture
def server():
    with vs.veryfi_server(client_secret=vs.CLIENT_SECRET) as state:
        yield state


@pytest.mark.parametrize("secret", [None, vs.CLIENT_SECRET], ids=["unsigned", "signed"])
def test_submit_then_find_by_external_id(secret):
    with vs.veryfi_server(client_secret=secret) as server, client(server) as veryfi:
        assert veryfi.find("abc") is None
        created = veryfi.submit("r.pdf", "abc", FILE)
        assert created["external_id"] == "abc" and created["vendor"]["name"]
        found = veryfi.find("abc")
        assert found is not None and found["id"] == created["id"]
        assert veryfi.find("other") is None
        get, post = ("GET", "/api/v8/partner/documents"), ("POST", "/api/v8/partner/documents")
        assert server.requests == [get, post, get, get]


def test_wrong_credentials_are_refused_with_veryfis_message(server):
    with client(server, api_key="wrong") as veryfi, pytest.raises(VeryfiRejected) as caught:
        veryfi.submit("r.pdf", "abc", FILE)
    assert "401" in str(caught.value) and "invalid AUTHORIZATION header" in str(caught.value)
    assert "wrong" not in str(caught.value)


def test_a_wrong_client_secret_fails_the_signature_check():
    with vs.veryfi_server(client_secret=vs.CLIENT_SECRET) as server:
        with client(server, client_secret="not-the-secret") as veryfi:
            with pytest.raises(VeryfiRejected, match="Invalid request signature"):
                veryfi.find("abc")


def test_signature_matches_veryfis_documented_algorithm():
    payload = {"file_name": "r.pdf", "external_id": "abc"}
    assert signature("s3cret", payload, 1700000000000) == vs.expected_signature(
        "s3cret", payload, "1700000000000"
    )


def test_400_is_a_rejection_with_the_message(server):
    server.answers.append(vs.Answer(status=400, message="File is password protected"))
    with client(server) as veryfi, pytest.raises(VeryfiRejected, match="password protected"):
        veryfi.submit("r.pdf", "abc", FILE)


@pytest.mark.parametrize(
    ("answer", "retry_after"),
    [
        (vs.Answer(status=429, message="Rate limit", retry_after="7"), 7.0),
        (vs.Answer(status=503, message="Maintenance"), None),
    ],
)
def test_429_and_5xx_are_retryable(server, answer, retry_after):
    server.answers.append(answer)
    with client(server) as veryfi, pytest.raises(VeryfiUnavailable) as caught:
        veryfi.submit("r.pdf", "abc", FILE)
    assert caught.value.retry_after == retry_after
    assert answer.message in str(caught.value)


def test_a_slow_answer_is_a_retryable_timeout(server):
    server.answers.append(vs.Answer(delay=1.0))
    with client(server, timeout_ms=200) as veryfi, pytest.raises(VeryfiUnavailable) as caught:
        veryfi.submit("r.pdf", "abc", FILE)
    assert "within 200 ms" in str(caught.value)


def test_retry_after_as_http_date():
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    seconds = retry_after_seconds(email.utils.format_datetime(later, usegmt=True))
    assert seconds is not None and 25 <= seconds <= 31
    assert retry_after_seconds("garbage") is None and retry_after_seconds(None) is None
