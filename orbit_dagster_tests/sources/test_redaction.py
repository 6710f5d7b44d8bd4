"""Redaction of secrets in URLs, headers and text, by value and by credential-shaped name."""

import logging

import pytest

from orbit_dagster.sources.redaction import Redactor


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.test/v?key=abc&range=A1", "https://x.test/v?key=REDACTED&range=A1"),
        ("https://x.test/v?access_token=abc&API_KEY=d", "?access_token=REDACTED&API_KEY=REDACTED"),
        ("https://user:hunter22@x.test/", "https://user:REDACTED@x.test/"),
        ("https://x.test/repos/a/b?per_page=100", "https://x.test/repos/a/b?per_page=100"),
    ],
)
def test_urls_lose_credentials_by_name(url, expected):
    assert expected in Redactor().url(url)


def test_known_secret_values_are_masked_anywhere_longest_first():
    redactor = Redactor().with_secrets(["tok-1234", "tok-1234-extended", "ab"])
    assert redactor.text("a tok-1234-extended and tok-1234") == "a REDACTED and REDACTED"
    assert redactor.url("https://x.test/p/tok-1234?appid=tok-1234") == (
        "https://x.test/p/REDACTED?appid=REDACTED"
    )
    assert (
        redactor.text("ab stays: too short to be a secret") == "ab stays: too short to be a secret"
    )


def test_headers_lose_credentials_by_name():
    headers = {
        "Authorization": "Bearer x",
        "X-Api-Key": "k",
        "Private-Token": "t",
        "Accept": "application/json",
    }
    assert Redactor().headers(headers) == {
        "Authorization": "REDACTED",
        "X-Api-Key": "REDACTED",
        "Private-Token": "REDACTED",
        "Accept": "application/json",
    }


def test_httpx_request_logs_are_redacted(caplog):
    from orbit_dagster.sources.http import HttpOptions, HttpRequest, HttpSession
    from orbit_dagster_tests.sources.fake_apis import fake_apis

    caplog.set_level(logging.INFO, logger="httpx")
    with (
        fake_apis() as apis,
        HttpSession("t", HttpOptions(), Redactor().with_secrets(["s3cr3t-v"])) as session,
    ):
        session.send(HttpRequest(f"{apis.base_url}/api/series", params={"appid": "s3cr3t-v"}))
        session.send(HttpRequest(f"{apis.base_url}/api/series", params={"key": "k-123"}))
    assert "HTTP Request: GET" in caplog.text
    assert "s3cr3t-v" not in caplog.text and "k-123" not in caplog.text


def test_a_payload_loses_every_secret_in_keys_values_and_numbers():
    redactor = Redactor().with_secrets(["tok-1234", "98765432"])
    payload = {
        "data": [{"date": "2026-10-01", "value": 3, "note": "echo tok-1234!"}],
        "tok-1234": {"url": "https://x.test/?t=tok%2D1234"},
        "id": 98765432,
        "ok": [1.5, True, None],
    }
    assert redactor.value(payload) == {
        "data": [{"date": "2026-10-01", "value": 3, "note": "echo REDACTED!"}],
        "REDACTED": {"url": "https://x.test/?t=REDACTED"},
        "id": "REDACTED",
        "ok": [1.5, True, None],
    }


def test_a_payload_without_secrets_is_returned_as_it_is():
    payload = {"data": [{"date": "2026-10-01", "value": 3}]}
    assert Redactor().with_secrets(["tok-1234"]).value(payload) is payload
    assert Redactor().value(payload) is payload
