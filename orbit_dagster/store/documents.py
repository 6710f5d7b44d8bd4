"""`DocumentStore`: the `veryfi_documents` rows, one per document keyed by its SHA-256.

Every write is an upsert on `sha256`, so a step that runs again (a retry, a re-execution, the
same file submitted twice) updates the one row instead of adding another. Each transaction is
bounded to `STATEMENT_TIMEOUT_MS` (the document pipeline's 30 s storage time limit): on
Postgres through `SET LOCAL statement_timeout`, on SQLite through the engine's busy timeout.
"""

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from orbit_dagster.store import schema as t
from orbit_dagster.store.records import StoreError, iso, utcnow

STATEMENT_TIMEOUT_MS = 30_000
STATUSES = ("uploaded", "processing", "completed", "failed")
# What a listing shows; `veryfi_response` (the whole extraction) only comes with `get`.
SUMMARY_COLUMNS = [c for c in t.veryfi_documents.c if c.name != "veryfi_response"]

_docs = t.veryfi_documents


class DocumentNotFoundError(StoreError):
    def __init__(self, key: str):
        super().__init__(f"document '{key}' not found (give its id or its SHA-256)")


class DocumentStore:
    def __init__(self, engine: sa.Engine):
        self.engine = engine

    @contextmanager
    def _begin(self) -> Iterator[sa.Connection]:
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
            yield conn

    def upsert(self, sha256: str, **values: Any) -> dict[str, Any]:
        """Insert the document's row (every required column given) or update those columns."""
        _check(values)
        now = utcnow()
        row = {"sha256": sha256, **values, "updated_at": now}
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(_docs).values(created_at=now, **row)
        stmt = stmt.on_conflict_do_update(
            index_elements=["sha256"], set_={name: stmt.excluded[name] for name in row}
        )
        with self._begin() as conn:
            conn.execute(stmt)
            return _json(conn.execute(sa.select(_docs).where(_docs.c.sha256 == sha256)).one())

    def update(self, sha256: str, **values: Any) -> dict[str, Any]:
        """Change some columns of an existing document's row; return the row."""
        _check(values)
        with self._begin() as conn:
            changed = conn.execute(
                _docs.update().where(_docs.c.sha256 == sha256).values(**values, updated_at=utcnow())
            )
            if changed.rowcount != 1:
                raise DocumentNotFoundError(sha256)
            return _json(conn.execute(sa.select(_docs).where(_docs.c.sha256 == sha256)).one())

    def mark_failed(self, sha256: str, error: str) -> None:
        """Record why the document's last step failed; an unknown document is left alone."""
        with self._begin() as conn:
            conn.execute(
                _docs.update()
                .where(_docs.c.sha256 == sha256)
                .values(status="failed", error=error, updated_at=utcnow())
            )

    def find(self, sha256: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(_docs).where(_docs.c.sha256 == sha256)).first()
        return None if row is None else _json(row)

    def get(self, key: str) -> dict[str, Any]:
        """One document by its numeric id or its SHA-256, with the raw Veryfi response."""
        condition = _docs.c.sha256 == key.lower()
        if key.isdigit():
            condition = sa.or_(condition, _docs.c.id == int(key))
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(_docs).where(condition)).first()
        if row is None:
            raise DocumentNotFoundError(key)
        return _json(row)

    def list_documents(self) -> list[dict[str, Any]]:
        """Every document without its raw response, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(*SUMMARY_COLUMNS).order_by(_docs.c.id.desc())).all()
        return [_json(row) for row in rows]

    def record_run(
        self,
        run_id: str,
        pipeline_name: str,
        *,
        status: str,
        started_at: dt.datetime,
        stages: list[Mapping[str, Any]],
        error: str | None = None,
    ) -> None:
        """One `pipeline_runs` row for a document run (no metric); idempotent per run."""
        runs = t.pipeline_runs
        with self._begin() as conn:
            conn.execute(runs.delete().where(runs.c.run_id == run_id, runs.c.metric_id.is_(None)))
            conn.execute(
                runs.insert().values(
                    run_id=run_id,
                    pipeline_name=pipeline_name,
                    status=status,
                    started_at=started_at,
                    finished_at=utcnow(),
                    stages=list(stages),
                    error=error,
                )
            )

    def runs(self, pipeline_name: str) -> list[dict[str, Any]]:
        runs = t.pipeline_runs
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(runs).where(runs.c.pipeline_name == pipeline_name).order_by(runs.c.id)
            ).mappings()
            return [dict(row) for row in rows]


def _check(values: Mapping[str, Any]) -> None:
    unknown = set(values) - set(_docs.c.keys())
    if unknown:
        raise StoreError(f"unknown document columns: {', '.join(sorted(unknown))}")
    if values.get("status", "uploaded") not in STATUSES:
        raise StoreError(f"invalid document status {values['status']!r}")


def _json(row: sa.Row) -> dict[str, Any]:
    """A row as JSON-ready values: ISO-8601 timestamps and dates, totals as numbers."""
    result = {}
    for key, value in row._mapping.items():
        if isinstance(value, dt.datetime):
            value = iso(value)
        elif isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = float(value)
        result[key] = value
    return result
