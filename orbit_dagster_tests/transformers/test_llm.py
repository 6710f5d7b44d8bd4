"""The OpenAI-compatible path against a real chat-completions server on 127.0.0.1: accepted
code, rejected code fed back, fallback to the built-in generator, transport failures, and
what the prompt holds (the cut sample) and never holds (keys, metric config, secrets)."""

import json
from typing import Any

import openai
import pytest

from orbit_dagster.transformers import BUILTIN_GENERATOR, GenerationError, run_transformer
from orbit_dagster.transformers.llm import generate_with_model
from orbit_dagster.transformers.prompts import extract_code, truncate_sample
from orbit_dagster_tests.transformers.chat_server import Delay, chat_server

API_KEY = "sk-test-do-not-send-1234567890"
MODEL = "orbit-test-model"
PAYLOAD = {
    "auth": {"token": "ghp_payloadsecret42"},
    "data": [{"day": f"2026-10-{day:02d}", "count": day} for day in range(1, 31)],
}
GOOD = """```python
def transform(payload, config):
    return [
        {"date": row["day"], "value": row["count"], "dimensions": None}
        for row in payload["data"]
    ]
```"""
CRASHES = "```python\ndef transform(payload, config):\n    return payload['items']\n```"
EMPTY = "```python\ndef transform(payload, config):\n    return []\n```"
HOSTILE = "```python\nimport os\ndef transform(payload, config):\n    return []\n```"
CHART = """```python
def transform(points, config):
    return {"$schema": "https://vega.github.io/schema/vega-lite/v5.json",
            "mark": "line", "data": {"values": points}, "title": "Commits"}
```"""


@pytest.fixture
def server():
    with chat_server() as state:
        yield state


def client_for(server, **options) -> openai.OpenAI:
    # No transport retries: each scripted reply is one attempt.
    return openai.OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0, **options)


def generate(server, **overrides):
    arguments = {
        "kind": "ingestion",
        "sample": PAYLOAD,
        "name": "Daily commits",
        "description": "Commits per day",
        "template": "http-json",
        "hints": {"date_path": "day"},
        "config": {"url": "https://example.com", "api_token": "cfgsecret99"},
        "timeout": 5,
    } | overrides
    return generate_with_model(client_for(server), MODEL, **arguments)


def test_good_code_is_accepted_on_the_first_attempt(server):
    server.replies = [GOOD]
    result = generate(server)
    assert result.generator == f"openai:{MODEL}"
    assert result.code.startswith("def transform(payload, config):")
    assert result.notes == [
        "attempt 1: code accepted (30 points from the sample)",
        "the model's series agrees with builtin-v1's top candidate, count (records at data)",
    ]
    assert len(run_transformer(result.code, PAYLOAD, kind="ingestion")) == 30
    assert len(server.requests) == 1
    request = server.requests[0]
    assert request["model"] == MODEL
    assert [message["role"] for message in request["messages"]] == ["system", "user"]


def test_bad_code_then_good_code_feeds_the_error_back(server):
    server.replies = [CRASHES, GOOD]
    result = generate(server)
    assert result.generator == f"openai:{MODEL}"
    assert result.notes[0].startswith("attempt 1: code rejected: transformer raised KeyError")
    assert result.notes[1] == "attempt 2: code accepted (30 points from the sample)"
    retry = server.requests[1]["messages"]
    assert [message["role"] for message in retry] == ["system", "user", "assistant", "user"]
    assert retry[2]["content"] == CRASHES
    assert "KeyError: 'items'" in retry[3]["content"]


@pytest.mark.parametrize("replies", [[CRASHES, EMPTY], [CRASHES, HOSTILE, "no code at all"]])
def test_repeated_bad_code_falls_back_to_the_builtin_generator(server, replies):
    server.replies = list(replies)
    result = generate(server, attempts=len(replies))
    assert result.generator == BUILTIN_GENERATOR
    assert len(server.requests) == len(replies)
    assert len(result.notes) == len(replies) + 2
    assert all("code rejected" in note for note in result.notes[:-2])
    assert result.notes[-2].startswith(
        f"fell back to {BUILTIN_GENERATOR}: openai:{MODEL} gave no usable code (attempt "
        f"{len(replies)}: code rejected: "
    )
    # The built-in generator's own note says what it chose and why.
    assert result.notes[-1].startswith("Chose count (records at data), sum per day")
    points = run_transformer(result.code, PAYLOAD, kind="ingestion")
    assert points[0] == {"date": "2026-10-01T00:00:00Z", "value": 1.0, "dimensions": None}


def test_each_rejection_reason_is_noted(server):
    server.replies = [EMPTY, HOSTILE, "Sorry, I cannot help."]
    notes = generate(server).notes
    assert "it returned no points from the sample payload" in notes[0]
    assert "import of 'os' is not allowed" in notes[1]
    assert "the reply holds no code defining transform()" in notes[2]


def test_server_error_falls_back_at_once_with_the_status(server):
    server.replies = [(500, {"error": {"message": "model overloaded", "type": "server_error"}})]
    result = generate(server)
    assert result.generator == BUILTIN_GENERATOR
    assert len(server.requests) == 1
    assert result.notes[0].startswith("attempt 1: the model could not be asked: HTTP 500")
    assert "model overloaded" in result.notes[0]
    assert "fell back to builtin-v1" in result.notes[1]


def test_timeout_falls_back_with_a_clear_note(server):
    server.replies = [Delay(5, GOOD)]
    result = generate(server, timeout=0.3)
    assert result.generator == BUILTIN_GENERATOR
    assert result.notes[0] == "attempt 1: the model could not be asked: request timed out"


def test_unreachable_server_falls_back():
    client = openai.OpenAI(base_url="http://127.0.0.1:9/v1", api_key=API_KEY, max_retries=0)
    result = generate_with_model(
        client, MODEL, kind="ingestion", sample=PAYLOAD, name="m", hints={"date_path": "day"}
    )
    assert result.generator == BUILTIN_GENERATOR
    assert "could not be asked: APIConnectionError" in result.notes[0]


def test_fallback_that_finds_no_series_says_both_why(server):
    server.replies = [(503, {"error": {"message": "down"}})]
    with pytest.raises(GenerationError) as caught:
        generate(server, sample={"note": "nothing here"}, hints={})
    assert "no time series found in the payload" in str(caught.value)
    assert "HTTP 503" in str(caught.value)


def test_chart_code_is_validated_as_a_vega_lite_spec(server):
    points = [{"date": "2026-10-01T00:00:00Z", "value": 3.0, "dimensions": None}]
    server.replies = [EMPTY, CHART]
    result = generate(server, kind="chart", sample=points, hints={})
    assert result.generator == f"openai:{MODEL}"
    assert "must return a dict, got list" in result.notes[0]
    assert "Vega-Lite" in server.requests[0]["messages"][0]["content"]


def test_prompt_holds_the_cut_sample_and_no_secrets(server):
    server.replies = [GOOD]
    big: dict[str, Any] = {
        "data": [{"day": "2026-10-01", "count": index, "note": "x" * 300} for index in range(500)]
    }
    big["auth"] = {"token": "ghp_payloadsecret42"}
    generate(server, sample=big, sample_budget=4_000)
    raw = json.dumps(server.requests[0])
    user = server.requests[0]["messages"][1]["content"]
    sent_sample = user.split("Sample (", 1)[1].split("\n", 1)[1]
    assert "Metric: Daily commits" in user and "Commits per day" in user
    assert '"date_path": "day"' in user
    assert "lists cut to their first" in user
    assert len(sent_sample) <= 4_000
    sent = json.loads(sent_sample)
    assert sent["data"][0] == {"day": "2026-10-01", "count": 0, "note": "x" * 200 + "…"}
    for secret in (API_KEY, "ghp_payloadsecret42", "cfgsecret99", "example.com"):
        assert secret not in raw
    assert sent["auth"] == {"token": "<redacted>"}
    # The key travels only where it belongs: the Authorization header.
    assert server.headers[0]["authorization"] == f"Bearer {API_KEY}"


def test_prompt_lists_the_builtin_candidates_with_the_config_that_selects_each(server):
    server.replies = [GOOD]
    sample = {
        "results": [
            {"date": f"2026-10-{day:02d}", "visitors": day, "pageviews": 3 * day}
            for day in range(1, 8)
        ]
    }
    generate(server, sample=sample, name="Pageviews", description="", hints={})
    user = server.requests[0]["messages"][1]["content"]
    listed = user.split("Sample (", 1)[0]
    assert "1. pageviews (records at results)" in listed
    assert "2. visitors (records at results)" in listed
    assert "value_path=visitors" in listed
    # The output contract travels in the system message.
    assert '"date": <ISO-8601 text' in server.requests[0]["messages"][0]["content"]


def test_a_model_series_other_than_the_builtin_top_candidate_is_noted(server):
    doubled = GOOD.replace('row["count"]', 'row["count"] * 2')
    server.replies = [doubled]
    result = generate(server)
    assert result.generator == f"openai:{MODEL}"
    assert result.notes[-1].startswith(
        "disagreement: the model's code gives 30 points (2026-10-01T00:00:00Z = 2 .. "
        "2026-10-30T00:00:00Z = 60) where builtin-v1's top candidate, count (records at data), "
        "gives 30 (2026-10-01T00:00:00Z = 1 .. 2026-10-30T00:00:00Z = 30)"
    )


def test_the_prompt_says_when_the_builtin_reader_could_not_choose(server):
    alpha = GOOD.replace('payload["data"]', "payload").replace('"day"', '"date"')
    server.replies = [alpha.replace('row["count"]', 'row["alpha"]')]
    sample = [{"date": f"2026-10-{day:02d}", "alpha": day, "beta": 2 * day} for day in (1, 2)]
    result = generate(server, sample=sample, name="Things", description="", hints={})
    user = server.requests[0]["messages"][1]["content"]
    assert "(the built-in reader chose none: cannot tell which series" in user
    assert "value_path=alpha; beta (records at top level): give value_path=beta" in user
    # With nothing to compare with, the model's code stands on its own.
    assert result.notes == ["attempt 1: code accepted (2 points from the sample)"]


def test_code_is_extracted_from_fenced_or_bare_replies():
    assert extract_code("Here:\n```py\ndef transform(p, c):\n    return []\n```\nDone") == (
        "def transform(p, c):\n    return []\n"
    )
    assert extract_code("def transform(p, c):\n    return []") == (
        "def transform(p, c):\n    return []\n"
    )
    assert extract_code("```\nprint(1)\n```") is None


def test_truncation_keeps_small_samples_whole_and_bounds_huge_ones():
    assert truncate_sample({"a": [1, 2]}, 100) == ('{"a": [1, 2]}', "complete")
    text, note = truncate_sample({"k": "v" * 10_000, "l": list(range(10_000))}, 150)
    assert len(text) <= 150 and "text cut at 150 characters" in note


def test_errors_fed_back_never_carry_config_values(server):
    leaky = "```python\ndef transform(payload, config):\n    raise ValueError(str(config))\n```"
    server.replies = [leaky, GOOD]
    result = generate(server)
    assert result.generator == f"openai:{MODEL}"
    fed_back = server.requests[1]["messages"][3]["content"]
    assert "ValueError" in fed_back and "<redacted>" in fed_back
    assert "cfgsecret99" not in json.dumps(server.requests) + " ".join(result.notes)
