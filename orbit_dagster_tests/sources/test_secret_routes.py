"""No route by which a secret leaks from a fetch: each common encoding of a token, at every
position around each cut, through every sink a source writes to (error messages, the step log
note with its response excerpt, httpx's and httpcore's log records), and across redirects.

A leak is any 7-character piece of any form of the secret in a sink: a token cut before
redaction would survive as all but its last characters.
"""

import base64
import json
import logging
import re
from urllib.parse import quote, quote_plus

import pytest

from orbit_dagster.sources import SourceError, fetch
from orbit_dagster.sources.fetched import EXCERPT_CHARACTERS
from orbit_dagster.sources.http import ERROR_BODY_CHARACTERS
from orbit_dagster_tests.sources.fake_apis import Reply, fake_apis

# Tokens with the characters URLs and JSON encode: + / = and, in a query, a non-ASCII letter
# (header values are ASCII).
TOKEN = "Zq7+vX/9=kL-mNpQtok"
QUERY_TOKEN = "Hq3/éRt+w9=Lm0-zzPq"
PASSWORD = "Pw-9x+Yz/Q=r"
BASIC = "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
PIECE = 7


def forms(secret: str) -> set[str]:
    """The ways a service or a log writes a secret down."""
    encoded = {
        secret,
        quote(secret, safe=""),
        re.sub("%[0-9A-F]{2}", lambda escape: escape[0].lower(), quote(secret, safe="")),
        quote_plus(secret, safe=""),
        json.dumps(secret)[1:-1],
        json.dumps(secret)[1:-1].replace("/", "\\/"),
    }
    return {form for form in encoded if len(form) >= PIECE}


BASIC_FORMS = {BASIC, BASIC.split()[1], f"alice:{PASSWORD}"}
FORMS = sorted(forms(TOKEN) | forms(QUERY_TOKEN) | forms(PASSWORD) | BASIC_FORMS, key=len)
PIECES = {form[i : i + PIECE] for form in FORMS for i in range(len(form) - PIECE + 1)}


def leaks(text: str) -> list[str]:
    return sorted(piece for piece in PIECES if piece in text)


@pytest.fixture
def apis(monkeypatch, caplog):
    monkeypatch.setenv("API_TOKEN", TOKEN)
    monkeypatch.setenv("QUERY_TOKEN", QUERY_TOKEN)
    monkeypatch.setenv("BASIC_AUTH", BASIC)
    caplog.set_level(logging.DEBUG, logger="httpx")
    caplog.set_level(logging.DEBUG, logger="httpcore")
    with fake_apis() as server:
        yield server


def secret_config(apis, path: str) -> dict[str, str]:
    return {
        "url": f"{apis.base_url}{path}",
        "retries": "0",
        "token_env": "API_TOKEN",
        "header.X-Partner-Auth": "env:BASIC_AUTH",
        "query.appid": "env:QUERY_TOKEN",  # not a credential-shaped name: only the value tells
    }


def sink_of(apis, path: str, reply: Reply) -> str:
    """Everything a fetch answered with `reply` wrote: its error or its log."""
    apis.script(path, reply)
    try:
        return fetch("http-json", secret_config(apis, path)).log
    except SourceError as error:
        return str(error)


def around(cut: int, form: str) -> range:
    """Start positions putting `form` wholly before, across and just after the cut."""
    return range(max(0, cut - len(form) - 1), cut + 2)


SINKS = {
    # name: (cut, reply putting `form` at `position` of the text that gets cut)
    "service message of a 401": (
        ERROR_BODY_CHARACTERS,
        lambda form, at: Reply(401, {"message": "a" * at + form + "b" * 300}),
    ),
    "non-JSON body of a 502": (
        ERROR_BODY_CHARACTERS,
        lambda form, at: Reply(
            502, ("a" * at + form + "b" * 300).encode(), {"Content-Type": "text/plain"}
        ),
    ),
    "non-JSON body of a 200": (
        ERROR_BODY_CHARACTERS,
        lambda form, at: Reply(200, ("a" * at + form + "b" * 300).encode()),
    ),
    "response excerpt in the log": (
        EXCERPT_CHARACTERS,
        # '["' puts the form's first character at `at`; the list keeps the body JSON.
        lambda form, at: Reply(200, ('["' + "a" * (at - 2) + form + "b" * 300 + '"]').encode()),
    ),
}


def test_no_encoding_of_a_secret_survives_any_cut_in_any_sink(apis, caplog):
    tried, found = 0, []
    for sink, (cut, reply) in SINKS.items():
        for form in FORMS:
            for at in around(cut, form):
                if sink == "response excerpt in the log" and at < 2:
                    continue
                tried += 1
                text = sink_of(apis, f"/api/leak/{tried}", reply(form, at))
                if leaks(text):
                    found.append((sink, form, at, leaks(text)))
    tried += 1  # httpx's and httpcore's DEBUG records of all of the above
    if leaks(caplog.text):
        found.append(("httpx/httpcore log records", "", 0, leaks(caplog.text)))
    print(f"\nleak routes tried: {tried}, found: {len(found)}")
    assert tried > 500
    assert found == [], sorted({(sink, form) for sink, form, *_ in found})


def test_a_token_in_a_query_is_redacted_in_every_encoding_on_success_and_failure(apis, caplog):
    apis.script("/api/ok", Reply(200, {"data": [1]}))
    fetched = fetch("http-json", secret_config(apis, "/api/ok"))
    sent = apis.requests_to("/api/ok")[0]
    assert sent.query["appid"] == QUERY_TOKEN  # the service got it
    assert "%2B" in sent.target and "%C3%A9" in sent.target  # URLs carry it percent-encoded
    assert "appid=REDACTED" in fetched.log and not leaks(fetched.log)
    apis.script("/api/down", Reply(500, {"message": "down"}))
    with pytest.raises(SourceError) as caught:
        fetch("http-json", secret_config(apis, "/api/down"))
    assert "appid=REDACTED" in str(caught.value) and not leaks(str(caught.value))
    assert "HTTP Request: GET" in caplog.text and not leaks(caplog.text)


def test_a_redirect_to_another_origin_drops_every_header_that_holds_a_secret(apis, monkeypatch):
    monkeypatch.setenv("PARTNER_KEY", "partner-key-0123")
    monkeypatch.setenv("TENANT", "tenant-from-env")
    config = {
        **secret_config(apis, "/api/moved"),
        "header.X-Api-Key": "env:PARTNER_KEY",
        "header.X-Tenant": "env:TENANT",  # an ordinary name: its value is what marks it
        "header.X-Plain": "kept",
    }
    with fake_apis() as other:
        apis.script("/api/moved", Reply(302, b"", {"Location": f"{other.base_url}/api/series"}))
        fetched = fetch("http-json", config)
    assert fetched.payload == {"data": other.items}
    [first] = apis.requests_to("/api/moved")
    [second] = other.requests_to("/api/series")
    carried = {"Authorization", "X-Partner-Auth", "X-Api-Key", "X-Tenant"}
    assert carried <= set(first.headers)
    assert not carried & set(second.headers), second.headers
    assert second.headers["X-Plain"] == "kept"
    assert "redirected to another origin" in fetched.log
    # (httpx itself drops Authorization on a change of origin.)
    assert "not sending x-partner-auth, x-api-key, x-tenant" in fetched.log
    assert not leaks(fetched.log) and "partner-key-0123" not in fetched.log


def test_a_redirect_within_the_origin_keeps_the_credentials(apis):
    apis.script("/api/moved", Reply(307, b"", {"Location": "/api/series"}))
    assert fetch("http-json", secret_config(apis, "/api/moved")).payload == {"data": apis.items}
    [followed] = apis.requests_to("/api/series")
    assert followed.headers["Authorization"] == f"Bearer {TOKEN}"
    assert followed.headers["X-Partner-Auth"] == BASIC


def test_a_payload_echoing_a_secret_in_any_encoding_comes_back_redacted(apis):
    # A run keeps the payload between its steps and shows it to the model: one more sink.
    data = [{"date": "2026-10-01", "value": 1}]
    apis.script(
        "/api/echo", Reply(200, {"data": data, "echo": FORMS, "keys": dict.fromkeys(FORMS)})
    )
    payload = fetch("http-json", secret_config(apis, "/api/echo")).payload
    for text in (json.dumps(payload), json.dumps(payload, ensure_ascii=False)):
        assert not leaks(text), leaks(text)
    assert payload["data"] == data
    assert payload["echo"] == ["REDACTED"] * len(FORMS)
