"""A credential written into a metric's config is refused when the metric is added: it would
be stored in the database and shown wherever the config is. The message says what to write
instead, and never repeats the credential.
"""

import pytest

from orbit_dagster.sources import SourceError
from orbit_dagster.sources.templates import validate_config

TOKEN = "Ab3dEf5gHi7jKl9mNo1pQr3sT"


@pytest.mark.parametrize(
    "url",
    [
        f"http://alice:{TOKEN}@127.0.0.1/x",
        f"https://{TOKEN}@127.0.0.1/x",
        f"https://127.0.0.1/x?access_token={TOKEN}",
        f"https://127.0.0.1/x?api_key={TOKEN}",
        f"https://127.0.0.1/x?region=eu&Signature={TOKEN}",
        f"https://127.0.0.1/x?appid={TOKEN}",  # no telling name: the value looks generated
        "https://127.0.0.1/x?q=ghp_abcdefghijklmnop0123",
        "https://127.0.0.1/x?auth=short",
    ],
)
def test_urls_with_credentials_are_refused(url):
    with pytest.raises(SourceError) as caught:
        validate_config("http-json", {"url": url})
    message = str(caught.value)
    assert "token_env=VARIABLE" in message and "query.NAME=env:VARIABLE" in message
    assert TOKEN not in message and "ghp_" not in message and "short" not in message


@pytest.mark.parametrize("template", ["github-commits", "gsheets-values"])
def test_api_urls_of_other_templates_are_checked_too(template):
    config = {"repo": "a/b", "spreadsheet_id": "s", "range": "A1", "key_env": "K"}
    with pytest.raises(SourceError, match="must not carry a user name or password"):
        validate_config(template, {**config, "api_url": f"https://x:{TOKEN}@127.0.0.1"})


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/x?since=2026-10-01T00:00:00Z&per_page=100",
        "https://127.0.0.1/x?sha=5f0c6e1b2a9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b",
        "https://127.0.0.1/x?project=550e8400-e29b-41d4-a716-446655440000",
        "https://127.0.0.1/x?name=Daily%20Active%20Users&key=",
    ],
)
def test_ordinary_query_values_are_accepted(url):
    validate_config("http-json", {"url": url})


@pytest.mark.parametrize("key", ["header.X-Custom", "query.appid", "header.X-Tenant"])
def test_token_shaped_literal_headers_and_query_values_are_refused(key):
    with pytest.raises(SourceError, match=f"{key} looks like a credential") as caught:
        validate_config("http-json", {"url": "https://127.0.0.1/x", key: TOKEN})
    assert TOKEN not in str(caught.value)
    validate_config("http-json", {"url": "https://127.0.0.1/x", key: "env:SOME_VARIABLE"})


def test_a_non_http_url_is_not_echoed_with_its_credentials():
    with pytest.raises(SourceError, match="absolute http") as caught:
        validate_config("http-json", {"url": f"ftp://bob:{TOKEN}@127.0.0.1/x?token={TOKEN}"})
    assert TOKEN not in str(caught.value)
