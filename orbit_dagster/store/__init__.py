"""The Orbit store: Orbit's own records in SQLite or Postgres, through SQLAlchemy.

Plain Python (no Dagster): `Store` holds metrics, points, transformers and chart configs;
`Store.refresh_log` the refresh lock, step log and progress; `Store.step_outputs` what a run's
steps hand each other, kept for re-execution. The schema is created and upgraded by the
bundled Alembic migrations the first time a process opens a database.
"""

from orbit_dagster.store.records import (
    MetricBusyError,
    MetricExistsError,
    MetricNotFoundError,
    Point,
    StoreError,
    Transformer,
)
from orbit_dagster.store.refresh_log import RefreshLog
from orbit_dagster.store.store import Store

__all__ = [
    "MetricBusyError",
    "MetricExistsError",
    "MetricNotFoundError",
    "Point",
    "RefreshLog",
    "Store",
    "StoreError",
    "Transformer",
]
