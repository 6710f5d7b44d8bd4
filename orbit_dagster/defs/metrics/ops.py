"""The nine named steps of a metric refresh as thin ops over `orbit_dagster.refresh`.

Each op is one row of the step table (`refresh/table.py`: its function names the op, its
description describes it), reads the partition key (the metric id) and its input state, and
runs that step through `run_step`, which keeps the step log, `refresh_status`, the lock and
`last_error`. Only `fetch_api_data` takes config: the mode travels with the state, so a run's
steps always agree on it. The state goes from op to op through the store (`REFRESH_IO_MANAGER`),
and the last op deletes it. The two saving ops also report the asset materializations' metadata.
"""

import dagster as dg
from pydantic import Field

from orbit_dagster.charts import warm_up
from orbit_dagster.dagster_api import (
    ensure_metric_partitions,
    missing_partition_error,
)
from orbit_dagster.dagster_api.connections import keep_connections
from orbit_dagster.dagster_api.interrupted import run_is_active
from orbit_dagster.defs.metrics.checks import check_evaluations
from orbit_dagster.defs.metrics.metadata import (
    chart_metadata,
    points_metadata,
    step_durations,
)
from orbit_dagster.defs.metrics.resources import OpenAIParam, TransformerGeneration
from orbit_dagster.defs.metrics.step_outputs import REFRESH_IO_MANAGER, release_step_outputs
from orbit_dagster.defs.resources import OrbitStore
from orbit_dagster.refresh.jobs import BATCH_OP
from orbit_dagster.refresh.modes import Mode
from orbit_dagster.refresh.plan import plan
from orbit_dagster.refresh.recorder import StepRecorder, describe
from orbit_dagster.refresh.run import DEFAULT_TOOLS, run_all_steps, run_step
from orbit_dagster.refresh.state import RefreshState
from orbit_dagster.refresh.table import BY_OP_NAME
from orbit_dagster.refresh.transformer_tools import TransformerTools
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


# Every op's state output: kept in the store for re-execution, never pickled under DAGSTER_HOME.
STATE_OUT = dg.Out(RefreshState, io_manager_key=REFRESH_IO_MANAGER)

BATCH_SANDBOX_WORKERS = 2  # one per core of a small worker; each is rlimited like a fresh child


def _run(
    context: dg.OpExecutionContext,
    orbit_store: OrbitStore,
    state: RefreshState,
    tools: TransformerTools = DEFAULT_TOOLS,
) -> RefreshState:
    """Run this op's step for this partition, planning what this run (or re-execution) runs."""
    # The nine ops of a run share its process and instance (in-process executor): one pool.
    keep_connections(context.instance)
    # Checked by every step, before it writes: a re-execution starts at any of them.
    missing = missing_partition_error(context.instance, context.partition_key)
    if missing:
        raise dg.Failure(description=missing, allow_retries=False)
    step_keys = context.run.step_keys_to_execute
    # The run's steps include the asset checks' step, which is no refresh step.
    op_names = None if step_keys is None else {key.split(".")[-1] for key in step_keys}
    executed = (
        None
        if op_names is None
        else {BY_OP_NAME[name].name for name in op_names if name in BY_OP_NAME}
    )
    store = orbit_store.get_store()
    recorder = StepRecorder(
        store=store,
        metric_id=context.partition_key,
        run_id=context.run_id,
        job_name=context.job_name,
        mode=state.mode,
        plan=plan(state.mode, executed, context.run.parent_run_id),
        is_run_active=run_is_active(context.instance, store),
    )
    step = BY_OP_NAME[context.op_def.name]
    # The name the product shows for the step, in the run's log as the step starts.
    context.log.info(f"{step.display_name}... ({step.name}, metric {context.partition_key})")
    return run_step(recorder, step, state, tools)


def _describe(op_name: str) -> str:
    """The op's description in the UI: the step's display name first, as the product shows it."""
    step = BY_OP_NAME[op_name]
    return f"{step.display_name} ({step.name}): {step.description}"


@dg.op(
    description=_describe("fetch_api_data"),
    # The external systems it reads (`defs/metrics/sources.py`), for the lineage only.
    ins={"sources": dg.In(dg.Nothing)},
    out=STATE_OUT,
    # The source already retried quickly inside the step (Retry-After, backoff); this covers
    # longer outages. Jitter spreads the retries of many metrics failing at once.
    retry_policy=dg.RetryPolicy(
        max_retries=2, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
    ),
)
def fetch_api_data(
    context: dg.OpExecutionContext, config: RefreshConfig, orbit_store: OrbitStore
) -> RefreshState:
    # This run's last step draws the chart: start the renderer now, beside the fetch.
    warm_up()
    initial = RefreshState(metric_id=context.partition_key, mode=config.mode)
    try:
        return _run(context, orbit_store, initial)
    except dg.Failure:
        raise
    except Exception as error:
        if isinstance(error, SourceError) and error.retryable:
            raise  # rate limit, 5xx, network: the RetryPolicy above tries again later
        # A bad token, a missing repository, a body that is not JSON, a busy metric: retrying
        # cannot help, so fail now rather than after the policy's delays.
        raise dg.Failure(description=describe(error), allow_retries=False) from error


def _step_op(op_name: str) -> dg.OpDefinition:
    """An op that runs one named step on its input state and passes the new state on."""

    @dg.op(name=op_name, description=_describe(op_name), out=STATE_OUT)
    def step_op(
        context: dg.OpExecutionContext,
        orbit_store: OrbitStore,
        transformer_generation: TransformerGeneration,
        openai: OpenAIParam,
        state: RefreshState,
    ) -> RefreshState:
        with transformer_generation.tools(context, openai) as tools:
            return _run(context, orbit_store, state, tools)

    return step_op


delete_old_data = _step_op("delete_old_data")
delete_old_transformer = _step_op("delete_old_transformer")
generate_ingestion_transformer = _step_op("generate_ingestion_transformer")
execute_ingestion_transformer = _step_op("execute_ingestion_transformer")
generate_chart_transformer = _step_op("generate_chart_transformer")
execute_chart_transformer = _step_op("execute_chart_transformer")


@dg.op(
    description=_describe("save_timeseries_data"),
    out={"metric_points": dg.Out(dg.Nothing), "state": STATE_OUT},
)
def save_timeseries_data(
    context: dg.OpExecutionContext, orbit_store: OrbitStore, state: RefreshState
):
    state = _run(context, orbit_store, state)
    durations = step_durations(orbit_store.get_store(), context.partition_key, context.run_id)
    yield dg.Output(None, "metric_points", metadata=points_metadata(state, durations))
    yield dg.Output(state, "state")


@dg.op(description=_describe("save_chart_config"), out=dg.Out(dg.Nothing))
def save_chart_config(
    context: dg.OpExecutionContext, orbit_store: OrbitStore, state: RefreshState
) -> dg.Output:
    state = _run(context, orbit_store, state)
    store = orbit_store.get_store()
    release_step_outputs(context, store)
    points = [p.to_json() for p in store.list_points(context.partition_key)]
    durations = step_durations(store, context.partition_key, context.run_id)
    return dg.Output(None, metadata=chart_metadata(state, points, durations, picture=True))


class BatchRefreshConfig(dg.Config):
    """Which metrics one batch run refreshes, and how."""

    metric_ids: list[str] = Field(description="Metric ids (partition keys), refreshed in order.")
    mode: Mode = Field(default="soft-refresh", description="As in refresh_metric_job.")


@dg.op(
    name=BATCH_OP,
    description="Refresh a batch of metrics in one run: each metric runs the nine steps with "
    "its own step log, lock and error, and its own materialization of metric_points / "
    "metric_chart. A failing metric fails only itself; the run fails at the end, naming them.",
)
def refresh_metrics(
    context: dg.OpExecutionContext,
    config: BatchRefreshConfig,
    orbit_store: OrbitStore,
    transformer_generation: TransformerGeneration,
    openai: OpenAIParam,
) -> None:
    store = orbit_store.get_store()
    # About ten Dagster events per metric follow: on pooled connections.
    keep_connections(context.instance)
    # Materializations count in a partition's status only once the partition exists.
    ensure_metric_partitions(context.instance, config.metric_ids)
    failures: dict[str, str] = {}
    # Warm sandbox workers for the whole batch: a fresh process per execution would cost
    # ~40 ms each, twice per metric (bench/transformer_exec.py).
    with (
        SandboxPool(size=BATCH_SANDBOX_WORKERS) as pool,
        transformer_generation.tools(context, openai, pool=pool) as tools,
    ):
        for metric_id in config.metric_ids:
            state = _refresh_one(context, store, metric_id, config.mode, tools, failures)
            if state is not None:
                _log_materializations(context, store, metric_id, state)
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
    tools: TransformerTools,
    failures: dict[str, str],
) -> RefreshState | None:
    """One metric of a batch; a failure is noted and isolated (its step log has the details)."""
    try:
        return run_all_steps(
            store,
            metric_id,
            context.run_id,
            context.job_name,
            mode,
            run_is_active(context.instance, store),
            tools,
        )
    except Exception as error:
        failures[metric_id] = describe(error)
        context.log.error(f"{metric_id}: {failures[metric_id]}")
        return None


def _log_materializations(
    context: dg.OpExecutionContext, store: Store, metric_id: str, state: RefreshState
) -> None:
    """The metric's own partitions of both assets and their checks, as a one-partition run
    would record them."""
    # Read once: the chart's facts and the checks are both about the stored series.
    points = [p.to_json() for p in store.list_points(metric_id)]
    durations = step_durations(store, metric_id, context.run_id)
    context.log_event(
        dg.AssetMaterialization(
            "metric_points", partition=metric_id, metadata=points_metadata(state, durations)
        )
    )
    context.log_event(
        dg.AssetMaterialization(
            "metric_chart",
            partition=metric_id,
            metadata=chart_metadata(state, points, durations, picture=False),
        )
    )
    for evaluation in check_evaluations(context.instance, store, metric_id, points):
        # log_event's annotation lists only materializations, observations and expectations;
        # Dagster records a check evaluation logged this way, partition included (tested).
        context.log_event(evaluation)  # pyright: ignore[reportArgumentType]
