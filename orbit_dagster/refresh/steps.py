"""The work of each named refresh step, as plain functions of one shape.

Every step is `(store, run_id, state, outcome, tools) -> state`: it does one step's work and
returns the state for the next. Which modes run a step is the step table's (`table.py`), so a
function here runs only in a mode that has its step. Recording the step (log row, status,
lock) is `StepRecorder`'s job, and `run.py` composes the steps in order. Transformers belong
to one metric: they are looked up and saved by metric id only, so two metrics on one template
never share code.
"""

from collections.abc import Callable
from dataclasses import replace
from typing import Any, Literal

from orbit_dagster.quality import revisions
from orbit_dagster.refresh.errors import RefreshError
from orbit_dagster.refresh.recorder import StepOutcome
from orbit_dagster.refresh.state import RefreshState
from orbit_dagster.refresh.transformer_tools import TransformerTools
from orbit_dagster.sources import fetch, get_template
from orbit_dagster.store import Point, Store, Transformer
from orbit_dagster.transformers import run_ingestion, run_transformer
from orbit_dagster.transformers.builtin.hints import HINT_KEYS

# The chart generator sees a sample of the points, not the whole series.
CHART_SAMPLE_SIZE = 50


def fetch_api_data(
    store: Store, run_id: str, state: RefreshState, outcome: StepOutcome, tools: TransformerTools
) -> RefreshState:
    metric = store.get_metric(state.metric_id)
    fetched = fetch(metric["template"], metric["config"])
    # The raw response (redacted, size-capped by the source) lands in the step log for debugging.
    outcome.detail = (
        f"payload of type {type(fetched.payload).__name__} ({metric['template']})\n{fetched.log}"
    )
    config = config_for_run(metric["template"], metric["config"])
    return replace(state, metric={**metric, "config": config}, payload=fetched.payload)


def config_for_run(template: str, config: dict[str, Any]) -> dict[str, Any]:
    """The config a refresh works with: the template's hints say what its payload means (e.g.
    count commits per day) and the metric's own config wins. It lives in one run's state (or
    one preview), never in the metric row."""
    return {**get_template(template).hints, **config}


def generation_hints(config: dict[str, Any]) -> dict[str, Any] | None:
    """The config keys that steer the built-in generator, or None when there are none."""
    return {key: config[key] for key in HINT_KEYS if key in config} or None


def delete_old_data(
    store: Store, run_id: str, state: RefreshState, outcome: StepOutcome, tools: TransformerTools
) -> RefreshState:
    """Hard refresh: the old points are deleted in the transaction that saves the new ones."""
    outcome.detail = (
        f"{store.count_points(state.metric_id)} old points will be replaced atomically when the "
        "new series is saved; they stay readable until then"
    )
    return state


def delete_old_transformer(
    store: Store, run_id: str, state: RefreshState, outcome: StepOutcome, tools: TransformerTools
) -> RefreshState:
    """Hard refresh: new transformers replace the old ones only together with their output."""
    kinds = [k for k in ("ingestion", "chart") if store.get_transformer(k, state.metric_id)]
    outcome.detail = (
        f"existing {' and '.join(kinds)} transformer(s) will be regenerated and replaced when "
        "their output is saved"
        if kinds
        else "the metric has no transformers yet"
    )
    return state


def _reuse_or_generate(
    store: Store,
    kind: Literal["ingestion", "chart"],
    state: RefreshState,
    outcome: StepOutcome,
    tools: TransformerTools,
    sample: Callable[[], Any],
) -> RefreshState:
    """Soft refresh reuses the metric's own transformer unless it is outdated (the metric
    changed since it was written); otherwise, or if there is none, generate."""
    existing = store.get_transformer(kind, state.metric_id)
    if state.mode == "soft-refresh" and existing is not None and not existing.outdated_reason:
        outcome.skip(f"reused the metric's {existing.generator} {kind} transformer")
        return replace(state, transformer=existing, transformer_is_new=False)
    metric = state.metric
    code, generator, note = tools.generate(
        kind, sample(), metric, generation_hints(metric["config"])
    )
    if existing is not None and existing.outdated_reason and state.mode == "soft-refresh":
        note = f"regenerated: {existing.outdated_reason}; {note}"
    outcome.detail = note
    transformer = Transformer(code=code, generator=generator, template=metric["template"])
    return replace(state, transformer=transformer, transformer_is_new=True)


def generate_ingestion_transformer(
    store: Store, run_id: str, state: RefreshState, outcome: StepOutcome, tools: TransformerTools
) -> RefreshState:
    return _reuse_or_generate(store, "ingestion", state, outcome, tools, lambda: state.payload)


def execute_ingestion_transformer(
    store: Store, run_id: str, state: RefreshState, outcome: StepOutcome, tools: TransformerTools
) -> RefreshState:
    assert state.transformer is not None
    result = run_ingestion(
        state.transformer.code, state.payload, state.metric["config"], pool=tools.pool
    )
    if not result.points:
        raise RefreshError("the ingestion transformer returned no data points from the payload")
    skipped = ", ".join(f"{count} {reason}" for reason, count in result.skipped.items())
    outcome.detail = f"{len(result.points)} points" + (f"; skipped: {skipped}" if skipped else "")
    return replace(state, payload=None, points=[Point.from_output(p) for p in result.points])


def save_timeseries_data(
    store: Store, run_id: str, state: RefreshState, outcome: StepOutcome, tools: TransformerTools
) -> RefreshState:
    replace_all = state.mode == "hard-refresh"
    dates = [p.ts for p in state.points]
    if replace_all:
        revision = revisions.not_compared(run_id, "a hard refresh replaces the whole series")
    else:
        # Read before the upsert overwrites them: the values the new points land on.
        stored, latest = store.stored_overlap(state.metric_id, min(dates), max(dates))
        revision = revisions.compare(stored, latest, state.points, run_id)
    saved = store.save_points(
        state.metric_id,
        run_id,
        state.points,
        replace=replace_all,
        transformer=state.new_transformer,
        revision=revision,
    )
    outcome.detail = (
        f"{saved} points upserted"
        + (", older points removed" if replace_all else "")
        + f"; {revisions.describe(revision)}"
    )
    return replace(state, points=[], points_saved=saved, saved_range=(min(dates), max(dates)))


def generate_chart_transformer(
    store: Store, run_id: str, state: RefreshState, outcome: StepOutcome, tools: TransformerTools
) -> RefreshState:
    return _reuse_or_generate(
        store,
        "chart",
        state,
        outcome,
        tools,
        lambda: [p.to_json() for p in store.list_points(state.metric_id)[:CHART_SAMPLE_SIZE]],
    )


def execute_chart_transformer(
    store: Store, run_id: str, state: RefreshState, outcome: StepOutcome, tools: TransformerTools
) -> RefreshState:
    assert state.transformer is not None
    points = [p.to_json() for p in store.list_points(state.metric_id)]
    spec = run_transformer(
        state.transformer.code, points, state.metric["config"], kind="chart", pool=tools.pool
    )
    outcome.detail = f"Vega-Lite spec over {len(points)} points"
    return replace(state, chart_spec=spec)


def save_chart_config(
    store: Store, run_id: str, state: RefreshState, outcome: StepOutcome, tools: TransformerTools
) -> RefreshState:
    assert state.chart_spec is not None
    store.save_chart(state.metric_id, run_id, state.chart_spec, transformer=state.new_transformer)
    return state
