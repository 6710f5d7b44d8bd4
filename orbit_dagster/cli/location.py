"""How the command reaches the code location: its definitions and its persistent instance.

Only through the public surface (`definitions.py`, `dagster_api/`), imported when a command
first needs Dagster: importing Dagster costs about 0.7 s, which `metrics list` need not pay.
(No annotations naming Dagster types here, so that this module never imports dagster.)
"""

import warnings
from functools import cache

# Dagster itself passes the beta `owners` parameter when `Definitions` rebuilds each sensor to
# attach the resources (`SensorDefinition.with_updated_jobs`), whether or not a sensor has
# owners: a BetaWarning about nothing of ours, silenced for that message from that Dagster
# module only (by message, not category: naming `dagster.BetaWarning` would import dagster).
# pyproject.toml's pytest `filterwarnings` holds the same filter for the tests.
SENSOR_OWNERS_BETA = r"Parameter `owners` of initializer `SensorDefinition.__init__`"
SENSOR_MODULE = r"dagster\._core\.definitions\.sensor_definition"


@cache
def definitions():
    from orbit_dagster.definitions import defs

    warnings.filterwarnings("ignore", message=SENSOR_OWNERS_BETA, module=SENSOR_MODULE)
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
