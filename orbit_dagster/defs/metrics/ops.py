"""The nine named steps of a metric refresh as thin ops over `orbit_dagster.refresh`.

Each op reads the partition key (the metric id) and its input state, runs one plain step
function inside `StepRecorder.step` (which keeps the step log, `refresh_status`, the lock
and `last_error`), and passes the new state on. Only `fetch_api_data` takes config: the
mode travels with the state, so a run's steps always agree on it.
"""

from dataclasses import replace

import dagster as dg
from pydantic import Field

from orbit_dagster.defs.metrics.run_state import run_is_active
from orbit_dagster.defs.resources import OrbitStore
from orbit_dagster.refresh import steps
from orbit_dagster.refresh.plan import Mode, plan
from orbit_dagster.refresh.recorder import StepRecorder
from orbit_dagster.refresh.state import RefreshState


class RefreshConfig(dg.Config):
    """How a refresh treats what the metric already has."""

    mode: Mode = Field(
        default="soft-refresh",
        description="create: generate both transformers and upsert points. soft-refresh: reuse "
        "the metric's transformers (generate any that are missing). hard-refresh: regenerate "
        "both and replace all points, atomically.",
    )


# Op name → the step it records: the step names are the stored contract, op names are verbs.
OP_STEPS = {
    "fetch_api_data": "fetching-api-data",
    "delete_old_data": "deleting-old-data",
    "delete_old_transformer": "deleting-old-transformer",
    "generate_ingestion_transformer": "generating-ingestion-transformer",
    "execute_ingestion_transformer": "executing-ingestion-transformer",
    "save_timeseries_data": "saving-timeseries-data",
    "generate_chart_transformer": "generating-chart-transformer",
    "execute_chart_transformer": "executing-chart-transformer",
    "save_chart_config": "saving-chart-config",
}


def _recorder(context: dg.OpExecutionContext, store: OrbitStore, mode: Mode) -> StepRecorder:
    """The step recorder of this run and metric, with the plan of what this run executes."""
    step_keys = context.run.step_keys_to_execute
    executed = None if step_keys is None else {OP_STEPS[k.split(".")[-1]] for k in step_keys}
    return StepRecorder(
        store=store.get_store(),
        metric_id=context.partition_key,
        run_id=context.run_id,
        mode=mode,
        plan=plan(mode, executed, context.run.parent_run_id),
        is_run_active=run_is_active(context.instance),
    )


@dg.op(description="fetching-api-data: fetch the metric's payload from its source.")
def fetch_api_data(
    context: dg.OpExecutionContext, config: RefreshConfig, orbit_store: OrbitStore
) -> RefreshState:
    recorder = _recorder(context, orbit_store, config.mode)
    with recorder.step("fetching-api-data") as outcome:
        metric = recorder.store.get_metric(context.partition_key)
        payload = steps.fetch_api_data(metric)
        outcome.detail = f"payload of type {type(payload).__name__}"
    context.log.info(f"{metric['id']}: fetched with template {metric['template']} ({config.mode})")
    return RefreshState(metric=metric, mode=config.mode, payload=payload)


@dg.op(description="deleting-old-data: hard refresh only; stage the replacement of old points.")
def delete_old_data(
    context: dg.OpExecutionContext, orbit_store: OrbitStore, state: RefreshState
) -> RefreshState:
    recorder = _recorder(context, orbit_store, state.mode)
    with recorder.step("deleting-old-data") as outcome:
        if state.mode == "hard-refresh":
            steps.stage_point_replacement(recorder.store, state.metric_id, outcome)
        else:
            outcome.skip(f"a {state.mode} run keeps existing data")
    return state


@dg.op(description="deleting-old-transformer: hard refresh only; regenerate, replace on save.")
def delete_old_transformer(
    context: dg.OpExecutionContext, orbit_store: OrbitStore, state: RefreshState
) -> RefreshState:
    recorder = _recorder(context, orbit_store, state.mode)
    with recorder.step("deleting-old-transformer") as outcome:
        if state.mode == "hard-refresh":
            steps.stage_transformer_replacement(recorder.store, state.metric_id, outcome)
        else:
            outcome.skip(f"a {state.mode} run keeps existing transformers")
    return state


@dg.op(description="generating-ingestion-transformer: reuse (soft refresh) or generate.")
def generate_ingestion_transformer(
    context: dg.OpExecutionContext, orbit_store: OrbitStore, state: RefreshState
) -> RefreshState:
    recorder = _recorder(context, orbit_store, state.mode)
    with recorder.step("generating-ingestion-transformer") as outcome:
        transformer, is_new = steps.ingestion_transformer(
            recorder.store, state.metric, state.payload, state.mode, outcome
        )
    return replace(state, transformer=transformer, transformer_is_new=is_new)


@dg.op(description="executing-ingestion-transformer: run it in the sandbox, validate points.")
def execute_ingestion_transformer(
    context: dg.OpExecutionContext, orbit_store: OrbitStore, state: RefreshState
) -> RefreshState:
    assert state.transformer is not None
    recorder = _recorder(context, orbit_store, state.mode)
    with recorder.step("executing-ingestion-transformer") as outcome:
        points = steps.execute_ingestion(
            state.transformer, state.payload, state.metric["config"], outcome
        )
    return replace(state, payload=None, points=points)


@dg.op(
    description="saving-timeseries-data: upsert points (hard refresh: replace) in one transaction.",
    out={"metric_points": dg.Out(dg.Nothing), "state": dg.Out(RefreshState)},
)
def save_timeseries_data(
    context: dg.OpExecutionContext, orbit_store: OrbitStore, state: RefreshState
):
    recorder = _recorder(context, orbit_store, state.mode)
    with recorder.step("saving-timeseries-data") as outcome:
        saved = steps.save_timeseries_data(
            recorder.store,
            state.metric_id,
            context.run_id,
            state.points,
            state.new_transformer,
            state.mode,
            outcome,
        )
    dates = [p.ts for p in state.points]
    yield dg.Output(
        None,
        "metric_points",
        metadata={
            "points_saved": saved,
            "points_stored": recorder.store.count_points(state.metric_id),
            "first_date": min(dates).isoformat(),
            "last_date": max(dates).isoformat(),
            "mode": state.mode,
            "transformer": dg.MetadataValue.md(f"```python\n{state.transformer.code}\n```")
            if state.transformer
            else "",
        },
    )
    yield dg.Output(replace(state, points=[]), "state")


@dg.op(description="generating-chart-transformer: reuse (soft refresh) or generate.")
def generate_chart_transformer(
    context: dg.OpExecutionContext, orbit_store: OrbitStore, state: RefreshState
) -> RefreshState:
    recorder = _recorder(context, orbit_store, state.mode)
    with recorder.step("generating-chart-transformer") as outcome:
        transformer, is_new = steps.chart_transformer(
            recorder.store, state.metric, state.mode, outcome
        )
    return replace(state, transformer=transformer, transformer_is_new=is_new)


@dg.op(description="executing-chart-transformer: build the Vega-Lite spec in the sandbox.")
def execute_chart_transformer(
    context: dg.OpExecutionContext, orbit_store: OrbitStore, state: RefreshState
) -> RefreshState:
    assert state.transformer is not None
    recorder = _recorder(context, orbit_store, state.mode)
    with recorder.step("executing-chart-transformer"):
        spec = steps.execute_chart(recorder.store, state.metric, state.transformer)
    return replace(state, chart_spec=spec)


@dg.op(
    description="saving-chart-config: save the spec (and a new chart transformer); finish.",
    out=dg.Out(dg.Nothing),
)
def save_chart_config(
    context: dg.OpExecutionContext, orbit_store: OrbitStore, state: RefreshState
) -> dg.Output:
    assert state.chart_spec is not None
    recorder = _recorder(context, orbit_store, state.mode)
    with recorder.step("saving-chart-config"):
        steps.save_chart_config(
            recorder.store, state.metric_id, context.run_id, state.chart_spec, state.new_transformer
        )
    return dg.Output(
        None,
        metadata={
            "mark": str(state.chart_spec.get("mark", "")),
            # The spec without its data values, which can be the whole series.
            "vega_lite": dg.MetadataValue.json(
                {key: value for key, value in state.chart_spec.items() if key != "data"}
            ),
            "refresh_finished": recorder.finished,
        },
    )
