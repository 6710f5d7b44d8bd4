"""How the command reaches the code location: its definitions and its persistent instance.

Only through the public surface (`definitions.py`, `dagster_api/`), imported when a command
first needs Dagster: importing Dagster costs about 0.7 s, which `metrics list` need not pay.
(No annotations naming Dagster types here, so that this module never imports dagster.)
"""

from functools import cache


@cache
def definitions():
    from orbit_dagster.definitions import defs

    return defs()


@cache
def metric_definitions():
    """Only the metric domain: enough for `orbit refresh`, without importing the documents'
    dagster-aws (boto3)."""
    from orbit_dagster.definitions import metric_defs

    return metric_defs()


def instance():
    from orbit_dagster import dagster_api

    return dagster_api.instance()


def run_is_active(store):
    """Whether a run still lives (Dagster's status and the run's heartbeats in `store`)."""

    def is_active(run_id: str) -> bool:
        from orbit_dagster.dagster_api.interrupted import run_is_active

        return run_is_active(instance(), store)(run_id)

    return is_active
