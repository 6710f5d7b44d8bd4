"""Pooled connections to Dagster's own storage for a run worker that writes many events.

Dagster's Postgres storages open a new connection for every read and write (SQLAlchemy's
`NullPool`, so that short-lived instances hold nothing open). A batch refresh writes about ten
events per metric (two materializations, the checks, their lookups): a fresh connection each
was ~3 ms of the ~15 ms an event cost here (`bench/refresh_many.py --dagster-postgres`).
Dagster gives long-lived processes a pool through the storages' public
`optimize_for_webserver` (the webserver calls it at start-up); a run worker with hundreds of
metrics is such a process for its run, so it takes the same pool. SQLite storages ignore it.
The pool needs dagster-postgres ≥ 0.29.21 (pyproject): earlier, every asset-check event left a
connection checked out until garbage collection (dagster-io/dagster#34153).
"""

import weakref

import dagster as dg

# Per storage: 1 kept open, up to OVERFLOW more while Dagster nests a read inside a write (its
# event log opens an index connection within a run-shard one). At most a few per run worker,
# so `max_concurrent_runs` workers stay far below Postgres's default 100 connections.
OVERFLOW = 2
# A run can be long; a connection older than this is replaced at its next checkout.
RECYCLE_SECONDS = 3600
# No statement timeout: a run worker's writes must finish, not be cut (0 disables it).
NO_TIMEOUT = 0

_pooled: "weakref.WeakSet[dg.DagsterInstance]" = weakref.WeakSet()


def keep_connections(instance: dg.DagsterInstance) -> None:
    """Make this process's `instance` reuse its storage connections; once per instance (each
    call would otherwise build new engines and leave the old pools behind)."""
    if instance in _pooled:
        return
    instance.optimize_for_webserver(
        statement_timeout=NO_TIMEOUT, pool_recycle=RECYCLE_SECONDS, max_overflow=OVERFLOW
    )
    _pooled.add(instance)
