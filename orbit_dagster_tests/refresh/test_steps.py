"""Each plain refresh step on its own, without Dagster: what it does, and how it fails.

A step is `(store, run_id, state, outcome, tools) -> state`; these tests call the functions
of the step table directly on a SQLite store, with the built-in generator and fresh sandbox
processes (the default tools).
"""

import json
from dataclasses import replace

import pytest
from sqlalchemy.exc import OperationalError

from orbit_dagster.refresh import steps
from orbit_dagster.refresh.errors import RefreshError
from orbit_dagster.refresh.modes import Mode
from orbit_dagster.refresh.plan import plan
from orbit_dagster.refresh.recorder import StepOutcome
from orbit_dagster.refresh.run import DEFAULT_TOOLS
from orbit_dagster.refresh.state import RefreshState
from orbit_dagster.refresh.transformer_tools import TransformerTools
from orbit_dagster.sources import SourceError
from orbit_dagster.store import MetricBusyError, MetricNotFoundError, Point, Store, Transformer
from orbit_dagster.transformers import GenerationError, TransformerError

RUN = "run-1"
DAYS = ["2026-10-01", "2026-10-02", "2026-10-03"]
SERIES = {"data": [{"date": d, "value": i + 1} for i, d in enumerate(DAYS)]}
EMPTY_CODE = "def transform(data, config):\n    return []\n"
FAILING_CODE = "def transform(data, config):\n    raise ValueError('broken transformer')\n"


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'orbit.sqlite3'}")


@pytest.fixture
def payload_file(tmp_path):
    path = tmp_path / "series.json"
    path.write_text(json.dumps(SERIES))
    return path


@pytest.fixture
def metric(store, payload_file) -> str:
    store.add_metric("m", name="Signups", template="file", config={"path": str(payload_file)})
    store.refresh_log.begin(
        "m",
        RUN,
        pipeline_name="test",
        mode="hard-refresh",
        plan=plan("hard-refresh"),
        is_run_active=lambda _run: True,
    )
    return "m"


def run(function, store: Store, state: RefreshState, tools=DEFAULT_TOOLS):
    outcome = StepOutcome()
    return function(store, RUN, state, outcome, tools), outcome


def fetched(store: Store, metric_id: str, mode: Mode = "hard-refresh") -> RefreshState:
    state, _ = run(steps.fetch_api_data, store, RefreshState(metric_id=metric_id, mode=mode))
    return state


def generated(store: Store, metric_id: str, mode: Mode = "hard-refresh") -> RefreshState:
    state, _ = run(steps.generate_ingestion_transformer, store, fetched(store, metric_id, mode))
    return state


def saved(store: Store, metric_id: str) -> RefreshState:
    state, _ = run(steps.execute_ingestion_transformer, store, generated(store, metric_id))
    state, _ = run(steps.save_timeseries_data, store, state)
    return state


def drop_table(store: Store, name: str) -> None:
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE {name}")


class FailingModel(TransformerTools):
    """Tools whose model cannot write code: generation fails as an exhausted model would."""

    def generate(self, kind, sample, metric, hints):
        raise GenerationError(f"the model wrote no usable {kind} transformer")


def test_fetch_api_data_reads_the_payload_and_the_templates_hints(store, metric):
    state, outcome = run(steps.fetch_api_data, store, RefreshState(metric_id=metric, mode="create"))
    assert state.payload == SERIES
    assert state.metric["name"] == "Signups"
    assert state.metric["config"]["path"].endswith("series.json")
    assert (outcome.detail or "").startswith("payload of type dict (file)")


def test_fetch_api_data_fails_on_a_missing_source_or_metric(store, metric, payload_file):
    payload_file.unlink()
    with pytest.raises(SourceError, match="does not exist"):
        run(steps.fetch_api_data, store, RefreshState(metric_id=metric, mode="create"))
    with pytest.raises(MetricNotFoundError):
        run(steps.fetch_api_data, store, RefreshState(metric_id="ghost", mode="create"))


def test_delete_old_data_stages_the_replacement_and_keeps_the_points(store, metric):
    saved(store, metric)
    state = RefreshState(metric_id=metric, mode="hard-refresh")
    after, outcome = run(steps.delete_old_data, store, state)
    assert after == state
    assert (outcome.detail or "").startswith("3 old points will be replaced atomically")
    assert store.count_points(metric) == 3


def test_delete_old_data_fails_when_the_store_cannot_count(store, metric):
    drop_table(store, "metric_data_points")
    with pytest.raises(OperationalError):
        run(steps.delete_old_data, store, RefreshState(metric_id=metric, mode="hard-refresh"))


def test_delete_old_transformer_names_what_will_be_replaced(store, metric):
    state = RefreshState(metric_id=metric, mode="hard-refresh")
    _, outcome = run(steps.delete_old_transformer, store, state)
    assert outcome.detail == "the metric has no transformers yet"
    saved(store, metric)
    _, outcome = run(steps.delete_old_transformer, store, state)
    assert (outcome.detail or "").startswith(
        "existing ingestion transformer(s) will be regenerated"
    )


def test_delete_old_transformer_fails_when_the_store_cannot_read(store, metric):
    drop_table(store, "ingestion_transformers")
    with pytest.raises(OperationalError):
        run(
            steps.delete_old_transformer, store, RefreshState(metric_id=metric, mode="hard-refresh")
        )


def test_generate_ingestion_transformer_generates_or_reuses(store, metric):
    state = generated(store, metric, mode="create")
    assert state.transformer is not None and state.transformer_is_new
    assert "def transform" in state.transformer.code
    saved(store, metric)
    soft, outcome = run(
        steps.generate_ingestion_transformer, store, fetched(store, metric, "soft-refresh")
    )
    assert outcome.skipped and not soft.transformer_is_new
    assert soft.transformer == store.get_transformer("ingestion", metric)


def test_generate_ingestion_transformer_fails_when_generation_fails(store, metric):
    with pytest.raises(GenerationError, match="no usable ingestion transformer"):
        run(steps.generate_ingestion_transformer, store, fetched(store, metric), FailingModel())


def test_execute_ingestion_transformer_turns_the_payload_into_points(store, metric):
    state, outcome = run(steps.execute_ingestion_transformer, store, generated(store, metric))
    assert [p.value for p in state.points] == [1.0, 2.0, 3.0]
    assert state.payload is None
    assert (outcome.detail or "").startswith("3 points")


def test_execute_ingestion_transformer_fails_on_no_points_or_broken_code(store, metric):
    state = generated(store, metric)
    empty = Transformer(
        code="def transform(p, c):\n    return []\n", generator="t", template="file"
    )
    with pytest.raises(RefreshError, match="returned no data points"):
        run(steps.execute_ingestion_transformer, store, replace(state, transformer=empty))
    broken = Transformer(code=FAILING_CODE, generator="t", template="file")
    with pytest.raises(TransformerError, match="broken transformer"):
        run(steps.execute_ingestion_transformer, store, replace(state, transformer=broken))


def test_save_timeseries_data_upserts_with_the_new_transformer(store, metric):
    state = saved(store, metric)
    assert state.points_saved == 3 and state.points == []
    assert state.saved_range is not None
    assert [d.date().isoformat() for d in state.saved_range] == [DAYS[0], DAYS[-1]]
    assert store.count_points(metric) == 3
    assert store.get_transformer("ingestion", metric) == state.transformer


def test_save_timeseries_data_refuses_a_run_without_the_lock(store, metric):
    state, _ = run(steps.execute_ingestion_transformer, store, generated(store, metric))
    outcome = StepOutcome()
    with pytest.raises(MetricBusyError, match="does not hold the refresh lock"):
        steps.save_timeseries_data(store, "other-run", state, outcome, DEFAULT_TOOLS)
    assert store.count_points(metric) == 0


def chart_ready(store: Store, metric_id: str) -> RefreshState:
    return replace(saved(store, metric_id), transformer=None, transformer_is_new=False)


def test_generate_chart_transformer_generates_from_the_saved_points(store, metric):
    state, outcome = run(steps.generate_chart_transformer, store, chart_ready(store, metric))
    assert state.transformer is not None and state.transformer_is_new
    assert "def transform" in state.transformer.code
    assert outcome.detail == f"generated by {state.transformer.generator}"  # built-in


def test_generate_chart_transformer_fails_when_generation_fails(store, metric):
    with pytest.raises(GenerationError, match="no usable chart transformer"):
        run(steps.generate_chart_transformer, store, chart_ready(store, metric), FailingModel())


def test_execute_chart_transformer_builds_a_vega_lite_spec(store, metric):
    state, _ = run(steps.generate_chart_transformer, store, chart_ready(store, metric))
    state, outcome = run(steps.execute_chart_transformer, store, state)
    assert state.chart_spec is not None and "vega-lite" in state.chart_spec["$schema"]
    assert outcome.detail == "Vega-Lite spec over 3 points"


def test_execute_chart_transformer_fails_on_broken_code(store, metric):
    broken = Transformer(code=FAILING_CODE, generator="t", template="file")
    state = replace(chart_ready(store, metric), transformer=broken)
    with pytest.raises(TransformerError, match="broken transformer"):
        run(steps.execute_chart_transformer, store, state)


def test_save_chart_config_saves_the_spec_and_its_transformer(store, metric):
    state, _ = run(steps.generate_chart_transformer, store, chart_ready(store, metric))
    state, _ = run(steps.execute_chart_transformer, store, state)
    run(steps.save_chart_config, store, state)
    assert store.get_chart_config(metric) == state.chart_spec
    assert store.get_transformer("chart", metric) == state.transformer


def test_save_chart_config_refuses_a_run_without_the_lock(store, metric):
    state = replace(chart_ready(store, metric), chart_spec={"mark": "line"})
    with pytest.raises(MetricBusyError):
        steps.save_chart_config(store, "other-run", state, StepOutcome(), DEFAULT_TOOLS)
    assert store.get_chart_config(metric) is None


def test_points_round_trip_through_the_state(store, metric):
    # The state Dagster pickles between ops holds Points the store gives back unchanged.
    state, _ = run(steps.execute_ingestion_transformer, store, generated(store, metric))
    assert all(isinstance(p, Point) for p in state.points)
