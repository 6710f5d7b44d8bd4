"""A refresh through Dagster with an OpenAI-compatible model (a real chat server on 127.0.0.1)."""

import json

import dagster as dg
import pytest

from orbit_dagster.dagster_api import run_refresh
from orbit_dagster.store import Store
from orbit_dagster_tests.transformers.chat_server import MODEL_CHART, chat_server

MODEL = "orbit-e2e-model"
API_KEY = "sk-e2e-never-stored-0987"
INGESTION = """```python
def transform(payload, config):
    return [{"date": r["day"], "value": r["n"], "dimensions": None} for r in payload["rows"]]
```"""
BROKEN = "```python\ndef transform(payload, config):\n    return payload['missing']\n```"


@pytest.fixture
def model_env(orbit_env, monkeypatch, tmp_path):
    with chat_server() as server:
        monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("ORBIT_OPENAI_MODEL", MODEL)
        payload = tmp_path / "rows.json"
        payload.write_text(
            json.dumps({"rows": [{"day": f"2026-10-0{d}", "n": d} for d in range(1, 5)]})
        )
        store = Store(orbit_env)
        store.add_metric("m", name="Rows", template="file", config={"path": str(payload)})
        yield server, store


def test_model_writes_both_transformers_validated_in_the_sandbox(model_env, instance):
    from orbit_dagster.definitions import defs

    server, store = model_env
    server.replies = [BROKEN, INGESTION, MODEL_CHART]
    outcome = run_refresh(defs(), instance, "m", "create")
    assert outcome.success, outcome.error
    assert store.get_transformer("ingestion", "m").generator == f"openai:{MODEL}"
    assert store.get_transformer("chart", "m").generator == f"openai:{MODEL}"
    assert [p.value for p in store.list_points("m")] == [1.0, 2.0, 3.0, 4.0]
    assert store.get_chart_config("m")["title"] == "Model chart"
    assert [r["model"] for r in server.requests] == [MODEL] * 3
    # The broken first reply was sent back with the sandbox's error, and the step log says so.
    generation = next(
        row
        for row in store.refresh_log.steps("m", outcome.run_id)
        if row["endpoint"] == "pipeline:generating-ingestion-transformer"
    )
    assert "missing" in json.dumps(server.requests[1]["messages"])
    assert generation["detail"] and "attempt" in generation["detail"].lower()
    assert API_KEY not in json.dumps(server.requests)


def test_model_failing_falls_back_to_the_built_in_generator(model_env, instance):
    from orbit_dagster.definitions import defs

    server, store = model_env
    server.replies = [(500, {"error": {"message": "overloaded"}})] * 20
    outcome = run_refresh(defs(), instance, "m", "create")
    assert outcome.success, outcome.error
    assert store.get_transformer("ingestion", "m").generator == "builtin-v1"
    assert store.count_points("m") == 4


def test_a_model_with_no_client_to_reach_it_is_refused_not_replaced():
    from orbit_dagster.defs.metrics.resources import TransformerGeneration

    generation = TransformerGeneration(model="gpt-test")
    with (
        pytest.raises(dg.Failure, match=r"names the model 'gpt-test'.*set OPENAI_API_KEY"),
        generation.tools(dg.build_op_context(), None),
    ):
        pass
