"""The code location's one entry point: every Dagster object under `defs/`, loaded by Dagster;
and, for a process that runs metric jobs only, the metric domain alone (`metric_defs`)."""

import warnings
from pathlib import Path

import dagster as dg

from orbit_dagster import settings

# Dagster itself passes the beta `owners` parameter when `Definitions` rebuilds each sensor to
# attach the resources (`SensorDefinition.with_updated_jobs`), whether or not a sensor has
# owners: a BetaWarning about nothing of ours, which every process loading this location printed
# (`dagster job execute` four times). Silenced here, on import, where the `orbit` command and
# Dagster's own tools all load the location, for that message from that Dagster module only.
# pyproject.toml's pytest `filterwarnings` holds the same filter (pytest resets them per test).
warnings.filterwarnings(
    "ignore",
    message=r"Parameter `owners` of initializer `SensorDefinition.__init__`",
    module=r"dagster\._core\.definitions\.sensor_definition",
)

# Scale-out beyond one process: ORBIT_EXECUTOR=celery sends every step to dagster-celery
# workers (deploy/celery/); the broker and result backend are read from the environment when a
# run starts, so their URLs (which may carry a password) never show in the UI.
# deploy/celery/celery.yaml gives the workers the same settings (a test keeps them equal).
CELERY_CONFIG = {
    "broker": {"env": "ORBIT_CELERY_BROKER"},
    "backend": {"env": "ORBIT_CELERY_BACKEND"},
    # A step can run for minutes (a slow source, a large save). Acknowledged only when done,
    # and never more than the one it runs reserved, a worker busy with a long step leaves
    # the next steps to idle workers (early acks let it reserve one more and sit on it:
    # seen on RabbitMQ), and a step whose worker dies is delivered again to another.
    "config_source": {"task_acks_late": True, "worker_prefetch_multiplier": 1},
}


def executor() -> dg.ExecutorDefinition:
    if settings.executor_name() == "celery":
        # Imported here: celery is needed only where it is chosen.
        from dagster_celery import celery_executor

        return celery_executor.configured(CELERY_CONFIG, name="orbit_celery_executor")
    # Orbit's graphs are chains of short steps: one process per step (the multiprocess
    # default) made a refresh through `dagster job execute` take 19 s instead of ~2 s.
    return dg.in_process_executor


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions.merge(
        dg.load_from_defs_folder(path_within_project=Path(__file__).parent),
        dg.Definitions(executor=executor()),
    )


def metric_defs() -> dg.Definitions:
    """The `defs/metrics` domain with the resources it uses and the same executor: what
    `orbit refresh` runs its job from. The whole location also imports the documents domain's
    dagster-aws (boto3), ~0.6 s of a refresh's start-up, which a metric run never uses.
    (`load_definitions_from_package_module` is a preview API in Dagster 1.13; the folder
    loader has no way to load one domain.)"""
    from orbit_dagster.defs import metrics
    from orbit_dagster.defs.resources import metric_resources, store_resources

    # A run's checks judge freshness by the default schedule: a bad ORBIT_REFRESH_CRON is
    # refused here, before a run starts (the whole location refuses it with its schedule).
    settings.refresh_cron()
    with warnings.catch_warnings():
        # Dagster 1.13 marks this loader (and the one it calls) as a preview: a PreviewWarning
        # on every call. The metric domain loads the same objects the folder loader does (a
        # test compares them).
        warnings.filterwarnings(
            "ignore",
            message=".*`load_definitions_from_(package_module|modules)`",
            category=dg.PreviewWarning,
        )
        return dg.load_definitions_from_package_module(
            metrics, resources={**store_resources(), **metric_resources()}, executor=executor()
        )
