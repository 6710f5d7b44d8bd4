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


# One of each documented token shape (made up, of the right form).
TOKEN_SHAPES = {
    "GitHub classic": "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7",
    "GitHub OAuth": "gho_16C7e42F292c6912E7710c838347Ae178B4a",
    "GitHub fine-grained": "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
    "Slack bot": "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp",
    "Slack user": "xoxp-1234-5678-abcdefghij",
    "AWS access key id": "AKIAIOSFODNN7EXAMPLE",
    "AWS secret key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "Stripe live": "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "Stripe test": "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
    "Stripe restricted": "rk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "OpenAI": "sk-proj-abcdefghijklmnopqrstT3BlbkFJ",
    "JWT": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6y",
    "lower-case key": "key-3ax6xnjp29jd6fds4gc373sgvjxteol0",
    "Bearer header": "Bearer ghp_abcdefghijklmnop0123",
}


# No documented prefix: refused by their look (length, mixed case, entropy), except as an id.
SHAPE_ONLY = (TOKEN_SHAPES["AWS secret key"], TOKEN_SHAPES["lower-case key"])


@pytest.mark.parametrize("value", TOKEN_SHAPES.values(), ids=TOKEN_SHAPES.keys())
@pytest.mark.parametrize("key", ["token", "notes", "header.X-Team", "spreadsheet_id"])
def test_a_literal_credential_under_any_key_is_refused(key, value):
    config = {"url": "https://127.0.0.1/x", key: value}
    if key == "spreadsheet_id" and value in SHAPE_ONLY:
        validate_config("http-json", config)  # an id may look generated: accepted
        return
    with pytest.raises(SourceError) as caught:
        validate_config("http-json", config)
    message = str(caught.value)
    assert message.startswith(f"config {key} looks like a credential")
    assert "environment variable" in message and "token_env=VARIABLE" in message
    assert "key_env=VARIABLE" in message and value not in message


@pytest.mark.parametrize("key", ["password", "api_key", "client_secret", "query.token"])
def test_a_literal_value_under_a_secret_name_is_refused_however_it_looks(key):
    with pytest.raises(SourceError, match=f"config {key} looks like a credential"):
        validate_config("http-json", {"url": "https://127.0.0.1/x", key: "hunter2"})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("since", "2026-10-01"),
        ("since", "2026-10-01T00:00:00Z"),
        ("project_id", "550e8400-e29b-41d4-a716-446655440000"),
        ("spreadsheet_id", "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms"),
        ("homepage", "https://example.com/orders/daily?per_page=100"),
        # Deep paths and URLs beat the entropy bound; they are structure, not keys.
        ("path", "/tmp/pytest-of-root/pytest-108/test_a_directory_is_not_a_regu0/allowed"),
        ("path", "./data/exports/2026/Q4/OrdersByRegion_v2/series.json"),
        ("homepage", "https://cdn.example.com/a9F3k/B7x2Q/report-2026-11-29T00Z.json"),
        ("sha", "5f0c6e1b2a9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b"),
        ("records_path", "data.items"),
        ("label", "orders_per_day_by_region_2026_v2"),
        ("library", "sk-learn"),
        ("token_env", "GITHUB_TOKEN"),
        ("header.X-Api-Key", "env:PARTNER_KEY"),
        ("author", "octocat"),
        ("sort_key", "date"),
    ],
)
def test_harmless_look_alikes_are_accepted(key, value):
    validate_config("http-json", {"url": "https://127.0.0.1/x", key: value})
