"""The nine named steps of a metric refresh as thin ops over `orbit_dagster.refresh`.

Each op reads the partition key (the metric id) and its input state and runs one plain step
through `run_step`, which keeps the step log, `refresh_status`, the lock and `last_error`.
Only `fetch_api_data` takes config: the mode travels with the state, so a run's steps
always agree on it. The two saving ops also report the asset materializations' metadata.
"""

import dagster as dg
from dagster_openai import OpenAIResource
from pydantic import Field

from orbit_dagster.defs.metrics.metadata import chart_metadata, points_metadata
from orbit_dagster.defs.metrics.partitions import metric_partitions
from orbit_dagster.defs.metrics.run_state import run_is_active
from orbit_dagster.defs.resources import OrbitStore, TransformerGeneration
from orbit_dagster.refresh.plan import Mode, plan
from orbit_dagster.refresh.recorder import StepRecorder, describe
from orbit_dagster.refresh.run import NO_SERVICES, refresh_metric, run_step
from orbit_dagster.refresh.services import Services
from orbit_dagster.refresh.state import RefreshState
from orbit_dagster.sources import SourceError
from orbit_dagster.store import Store
from orbit_dagster.transformers.pool import SandboxPool


class RefreshConfig(dg.Config):
    """How a refresh treats what the metric already has."""

    mode: Mode = Field(
        default="soft-refresh",
        description="create: generate both transformers and upsert points. soft-refresh: reuse "
        "the metric's transformers (generate any that are missing). hard-refresh: regenerate "
        "both and replace all points, atomically.",
    )


BATCH_SANDBOX_WORKERS = 2  # one per core of a small worker; each is rlimited like a fresh child

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
STEP_DESCRIPTIONS = {
    "fetching-api-data": "Fetch the metric's payload from its source.",
    "deleting-old-data": "Hard refresh: stage the replacement of the old points.",
    "deleting-old-transformer": "Hard refresh: stage the replacement of both transformers.",
    "generating-ingestion-transformer": "Reuse (soft refresh) or generate the transformer.",
    "executing-ingestion-transformer": "Run it in the sandbox; validate the points.",
    "saving-timeseries-data": "Upsert the points (hard refresh: replace) in one transaction.",
    "generating-chart-transformer": "Reuse (soft refresh) or generate the chart transformer.",
    "executing-chart-transformer": "Build the Vega-Lite spec in the sandbox.",
    "saving-chart-config": "Save the chart config (and a new chart transformer).",
}


def _run(
    context: dg.OpExecutionContext,
    orbit_store: OrbitStore,
    step: str,
    state: RefreshState,
    services: Services = NO_SERVICES,
) -> RefreshState:
    """Run `step` for this partition, planning what this run (or re-execution) executes."""
    step_keys = context.run.step_keys_to_execute
    executed = None if step_keys is None else {OP_STEPS[k.split(".")[-1]] for k in step_keys}
    recorder = StepRecorder(
        store=orbit_store.get_store(),
        metric_id=context.partition_key,
        run_id=context.run_id,
        mode=state.mode,
        plan=plan(state.mode, executed, context.run.parent_run_id),
        is_run_active=run_is_active(context.instance),
    )
    return run_step(recorder, step, state, services)


def _describe(op_name: str) -> str:
    step = OP_STEPS[op_name]
    return f"{step}: {STEP_DESCRIPTIONS[step]}"


@dg.op(
    description=_describe("fetch_api_data"),
    # The source already retried quickly inside the step (Retry-After, backoff); this covers
    # longer outages. Jitter spreads the retries of many metrics failing at once.
    retry_policy=dg.RetryPolicy(
        max_retries=2, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
    ),
)
def fetch_api_data(
    context: dg.OpExecutionContext, config: RefreshConfig, orbit_store: OrbitStore
) -> RefreshState:
    initial = RefreshState(metric_id=context.partition_key, mode=config.mode)
    try:
        return _run(context, orbit_store, "fetching-api-data", initial)
    except Exception as error:
        if isinstance(error, SourceError) and error.retryable:
            raise  # rate limit, 5xx, network: the RetryPolicy above tries again later
        # A bad token, a missing repository, a body that is not JSON, a busy metric: retrying
        # cannot help, so fail now rather than after the policy's delays.
        raise dg.Failure(description=describe(error), allow_retries=False) from error


def _step_op(op_name: str) -> dg.OpDefinition:
    """An op that runs one named step on its input state and passes the new state on."""

    @dg.op(name=op_name, description=_describe(op_name))
    def step_op(
        context: dg.OpExecutionContext,
        orbit_store: OrbitStore,
        transformer_generation: TransformerGeneration,
        openai: OpenAIResource,
        state: RefreshState,
    ) -> RefreshState:
        with transformer_generation.services(context, openai) as services:
            return _run(context, orbit_store, OP_STEPS[op_name], state, services)

    return step_op


delete_old_data = _step_op("delete_old_data")
delete_old_transformer = _step_op("delete_old_transformer")
generate_ingestion_transformer = _step_op("generate_ingestion_transformer")
execute_ingestion_transformer = _step_op("execute_ingestion_transformer")
generate_chart_transformer = _step_op("generate_chart_transformer")
execute_chart_transformer = _step_op("execute_chart_transformer")


@dg.op(
    description=_describe("save_timeseries_data"),
    out={"metric_points": dg.Out(dg.Nothing), "state": dg.Out(RefreshState)},
)
def save_timeseries_data(
    context: dg.OpExecutionContext, orbit_store: OrbitStore, state: RefreshState
):
    state = _run(context, orbit_store, "saving-timeseries-data", state)
    yield dg.Output(None, "metric_points", metadata=points_metadata(state))
    yield dg.Output(state, "state")


@dg.op(description=_describe("save_chart_config"), out=dg.Out(dg.Nothing))
def save_chart_config(
    context: dg.OpExecutionContext, orbit_store: OrbitStore, state: RefreshState
) -> dg.Output:
    state = _run(context, orbit_store, "saving-chart-config", state)
    return dg.Output(None, metadata=chart_metadata(state))


class BatchRefreshConfig(dg.Config):
    """Which metrics one batch run refreshes, and how."""

    metric_ids: list[str] = Field(description="Metric ids (partition keys), refreshed in order.")
    mode: Mode = Field(default="soft-refresh", description="As in refresh_metric.")


@dg.op(
    description="Refresh a batch of metrics in one run: each metric runs the nine steps with "
    "its own step log, lock and error, and its own materialization of metric_points / "
    "metric_chart. A failing metric fails only itself; the run fails at the end, naming them."
)
def refresh_metrics(
    context: dg.OpExecutionContext,
    config: BatchRefreshConfig,
    orbit_store: OrbitStore,
    transformer_generation: TransformerGeneration,
    openai: OpenAIResource,
) -> None:
    store = orbit_store.get_store()
    # Materializations count in a partition's status only once the partition exists.
    existing = set(context.instance.get_dynamic_partitions(metric_partitions.name))
    missing = [m for m in config.metric_ids if m not in existing]
    if missing:
        context.instance.add_dynamic_partitions(metric_partitions.name, missing)
    failures: dict[str, str] = {}
    # Warm sandbox workers for the whole batch: a fresh process per execution would cost
    # ~40 ms each, twice per metric (bench/transformer_exec.py).
    with (
        SandboxPool(size=BATCH_SANDBOX_WORKERS) as pool,
        transformer_generation.services(context, openai, pool=pool) as services,
    ):
        for metric_id in config.metric_ids:
            state = _refresh_one(context, store, metric_id, config.mode, services, failures)
            if state is not None:
                _log_materializations(context, metric_id, state)
    if failures:
        raise dg.Failure(
            description=f"{len(failures)} of {len(config.metric_ids)} metrics failed: "
            + "; ".join(f"{m}: {e}" for m, e in failures.items()),
            metadata={"failed_metrics": dg.MetadataValue.json(failures)},
        )


def _refresh_one(
    context: dg.OpExecutionContext,
    store: Store,
    metric_id: str,
    mode: Mode,
    services: Services,
    failures: dict[str, str],
) -> RefreshState | None:
    """One metric of a batch; a failure is noted and isolated (its step log has the details)."""
    try:
        return refresh_metric(
            store, metric_id, context.run_id, mode, run_is_active(context.instance), services
        )
    except Exception as error:
        failures[metric_id] = describe(error)
        context.log.error(f"{metric_id}: {failures[metric_id]}")
        return None


def _log_materializations(context: dg.OpExecutionContext, metric_id: str, state: RefreshState):
    """The metric's own partitions of both assets, as a one-partition run would record them."""
    context.log_event(
        dg.AssetMaterialization(
            "metric_points", partition=metric_id, metadata=points_metadata(state)
        )
    )
    context.log_event(
        dg.AssetMaterialization("metric_chart", partition=metric_id, metadata=chart_metadata(state))
    )
