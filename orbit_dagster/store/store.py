"""`Store`: metrics, their data points, transformers and chart configs in the Orbit database.

The refresh lifecycle (lock, plan, step log, progress) is in `refresh_log.py`; this module
holds the catalog and the data. Writes that must not be seen half-done (a hard refresh's
delete plus insert, a transformer with the points it produced) run in one transaction, and
only while the writing run still holds the metric's refresh lock.
"""

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from orbit_dagster.store import schema as t
from orbit_dagster.store.documents import DocumentStore
from orbit_dagster.store.engine import get_engine
from orbit_dagster.store.heartbeats import Heartbeats
from orbit_dagster.store.pg_copy import copy_rows, staging_table
from orbit_dagster.store.records import (
    MetricBusyError,
    MetricExistsError,
    MetricNotFoundError,
    Point,
    StoreError,
    Transformer,
    iso,
    utcnow,
)
from orbit_dagster.store.refresh_log import RefreshLog, RunIsActive
from orbit_dagster.store.step_outputs import StepOutputs

# A metric id is also a Dagster partition key, a run tag value and a path segment in links:
# keep it to characters that are safe in all of them.
METRIC_ID_PATTERN = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{t.ID_LENGTH - 1}}}")
TRANSFORMER_TABLES = {"ingestion": t.ingestion_transformers, "chart": t.chart_transformers}
# Rows per executemany batch: big enough for the engines' fast paths, small enough to bound memory.
UPSERT_BATCH = 5_000
# A point's identity, what an upsert over it changes, and every column a save writes (in the
# order the COPY path sends them).
POINT_IDENTITY = ["metric_id", "ts", "dimensions_key"]
POINT_UPDATES = ["value", "dimensions", "run_id", "updated_at"]
POINT_COLUMNS = [*POINT_IDENTITY, "dimensions", "value", "run_id", "updated_at"]
# A point's identity within its metric, as saved: naive UTC time and dimensions key.
PointIdentity = tuple[dt.datetime, str]
# What `update_metric` may change; the id and template make a different metric.
UPDATABLE = ("name", "description", "config", "schedule")


def check_name(name: str) -> None:
    """A metric's name says what it counts (the transformer generator reads it): refused when
    blank, longer than its column (which SQLite would keep and Postgres refuse), or holding a
    line break, tab or other control character (a name is one line in every table and log)."""
    if not name.strip():
        raise StoreError("a metric needs a name: say what it counts, e.g. --name 'Signups per day'")
    if len(name) > t.NAME_LENGTH:
        raise StoreError(f"a metric's name is at most {t.NAME_LENGTH} characters, got {len(name)}")
    if not name.isprintable():
        raise StoreError(f"a metric's name is one line of printable characters, got {ascii(name)}")


class Store:
    """The Orbit store over one database URL (SQLite or Postgres, same schema)."""

    def __init__(self, url: str):
        self.url = url
        self.engine = get_engine(url)
        self.refresh_log = RefreshLog(self.engine)
        self.documents = DocumentStore(self.engine)
        self.heartbeats = Heartbeats(self.engine)
        self.step_outputs = StepOutputs(self.engine)

    # -- metrics -------------------------------------------------------------------------

    def add_metric(
        self,
        metric_id: str,
        *,
        name: str,
        template: str,
        config: dict[str, Any] | None = None,
        schedule: str | None = None,
        description: str = "",
        organization: str | None = None,
        integration_id: str | None = None,
    ) -> dict[str, Any]:
        if not METRIC_ID_PATTERN.fullmatch(metric_id):
            raise StoreError(
                f"invalid metric id {metric_id!r}: use 1 to {t.ID_LENGTH} letters, digits, '.', "
                "'_' or '-', starting with a letter or digit"
            )
        check_name(name)
        now = utcnow()
        row = {
            "id": metric_id,
            "name": name,
            "template": template,
            "config": config or {},
            "schedule": schedule,
            "description": description,
            "organization": organization,
            "integration_id": integration_id,
            "created_at": now,
            "updated_at": now,
        }
        with self.engine.begin() as conn:
            if conn.execute(sa.select(t.metrics.c.id).where(t.metrics.c.id == metric_id)).first():
                raise MetricExistsError(metric_id)
            conn.execute(t.metrics.insert().values(row))
        return self.get_metric(metric_id)

    def get_metric(self, metric_id: str, organization: str | None = None) -> dict[str, Any]:
        """The metric row; 'not found' also when it belongs to another organization."""
        query = sa.select(t.metrics).where(t.metrics.c.id == metric_id)
        if organization is not None:
            query = query.where(t.metrics.c.organization == organization)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            raise MetricNotFoundError(metric_id)
        return _row_json(row)

    def list_metrics(self, organization: str | None = None) -> list[dict[str, Any]]:
        query = sa.select(t.metrics).order_by(t.metrics.c.id)
        if organization is not None:
            query = query.where(t.metrics.c.organization == organization)
        with self.engine.connect() as conn:
            return [_row_json(row) for row in conn.execute(query).mappings()]

    def catalog_fingerprint(self) -> tuple[int, str | None]:
        """(number of metrics, newest creation time): changes when metrics come or go."""
        with self.engine.connect() as conn:
            count, newest = conn.execute(
                sa.select(sa.func.count(), sa.func.max(t.metrics.c.created_at))
            ).one()
        return count, iso(newest)

    def metric_schedules(self) -> dict[str, str | None]:
        """Every metric id (oldest first) with its own cron schedule, or None."""
        c = t.metrics.c
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(c.id, c.schedule).order_by(c.created_at, c.id))
            return {row.id: row.schedule for row in rows}

    def sync_pipelines(self, entries: Sequence[dict[str, Any]]) -> dict[str, int]:
        """Mirror the code location's pipelines: upsert these, mark the others inactive.

        Each entry has name, kind, description, schedule and is_active. Rows are never
        deleted, so a pipeline removed from code keeps its history as an inactive row.
        """
        now = utcnow()
        names = [entry["name"] for entry in entries]
        with self.engine.begin() as conn:
            _upsert(
                conn,
                t.pipelines,
                [{**entry, "created_at": now, "updated_at": now} for entry in entries],
                keys=["name"],
                update=["kind", "description", "schedule", "is_active", "updated_at"],
            )
            retired = conn.execute(
                t.pipelines.update()
                .where(t.pipelines.c.name.not_in(names), t.pipelines.c.is_active.is_(True))
                .values(is_active=False, updated_at=now)
            ).rowcount
        return {"mirrored": len(entries), "retired": retired}

    def list_pipelines(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.pipelines).order_by(t.pipelines.c.name)).mappings()
            return [_row_json(row) for row in rows]

    def update_metric(
        self,
        metric_id: str,
        changes: Mapping[str, Any],
        *,
        is_run_active: RunIsActive,
    ) -> list[str]:
        """Change name, description, config and/or schedule in place; the fields that changed.

        Points are kept. A changed name, description or config marks both transformers
        outdated (their code was written for the old intent), so the next refresh — a soft
        one too — writes them anew. Refused with MetricBusyError while a live run holds the
        metric: that run read the old config and would save code written for it.
        """
        unknown = sorted(set(changes) - set(UPDATABLE))
        if unknown:
            raise StoreError(
                f"cannot update {', '.join(unknown)}; updatable: {', '.join(UPDATABLE)}"
            )
        if "name" in changes:
            check_name(changes["name"])
        c = t.metrics.c
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(t.metrics).where(c.id == metric_id)).mappings().first()
            if row is None:
                raise MetricNotFoundError(metric_id)
            holder = row["refresh_run_id"]
            if holder is not None and is_run_active(holder):
                raise MetricBusyError(
                    f"metric '{metric_id}' is being refreshed by run {holder}; nothing was "
                    "changed. Try again when that run has finished."
                )
            changed = [key for key in UPDATABLE if key in changes and changes[key] != row[key]]
            if not changed:
                return []
            now = utcnow()
            # Compare-and-set on the lock: a run that claimed the metric since the read above
            # makes this update touch no row, and it is refused rather than interleaved.
            updated = conn.execute(
                t.metrics.update()
                .where(c.id == metric_id, c.refresh_run_id.is_not_distinct_from(holder))
                .values({**{key: changes[key] for key in changed}, "updated_at": now})
            )
            if updated.rowcount != 1:
                raise MetricBusyError(
                    f"metric '{metric_id}' was claimed by a refresh while it was being "
                    "updated; nothing was changed"
                )
            reasons = [_change_reason(key, row[key], changes[key]) for key in changed]
            reasons = [reason for reason in reasons if reason]
            if reasons:
                for table in TRANSFORMER_TABLES.values():
                    conn.execute(
                        table.update()
                        .where(table.c.metric_id == metric_id)
                        .values(outdated_reason="; ".join(reasons), updated_at=now)
                    )
        return changed

    def delete_metric(self, metric_id: str) -> None:
        """Delete the metric and, by cascade, everything it owns."""
        with self.engine.begin() as conn:
            deleted = conn.execute(t.metrics.delete().where(t.metrics.c.id == metric_id))
        if deleted.rowcount == 0:
            raise MetricNotFoundError(metric_id)

    # -- transformers and chart configs --------------------------------------------------

    def get_transformer(self, kind: str, metric_id: str) -> Transformer | None:
        table = TRANSFORMER_TABLES[kind]
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(
                    table.c.code, table.c.generator, table.c.template, table.c.outdated_reason
                ).where(table.c.metric_id == metric_id)
            ).first()
        return None if row is None else Transformer(*row)

    def get_chart_config(self, metric_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(t.chart_configs.c.spec).where(t.chart_configs.c.metric_id == metric_id)
            ).scalar()

    def save_chart(
        self,
        metric_id: str,
        run_id: str,
        spec: dict[str, Any],
        *,
        transformer: Transformer | None,
    ) -> None:
        """Save the chart config, with the chart transformer that produced it when it is new."""
        now = utcnow()
        with self.engine.begin() as conn:
            _check_lock(conn, metric_id, run_id)
            if transformer is not None:
                _upsert_transformer(conn, "chart", metric_id, run_id, transformer)
            _upsert(
                conn,
                t.chart_configs,
                [{"metric_id": metric_id, "spec": spec, "run_id": run_id, "updated_at": now}],
                keys=["metric_id"],
                update=["spec", "run_id", "updated_at"],
            )

    # -- data points ---------------------------------------------------------------------

    def save_points(
        self,
        metric_id: str,
        run_id: str,
        points: Sequence[Point],
        *,
        replace: bool,
        transformer: Transformer | None,
        revision: Mapping[str, Any] | None = None,
    ) -> int:
        """Upsert points on (metric, timestamp, dimensions), in one transaction; how many.

        `revision` (what the save changes in the metric's stored points, `quality.revisions`)
        is recorded on the metric in that same transaction: it describes exactly this save.

        `replace` deletes the metric's other points in that same transaction (hard refresh):
        until it commits, readers see the old series, and if anything fails they keep it.
        A new ingestion transformer is saved in the same transaction as the points it made.
        Aware timestamps are saved as naive UTC, the store's convention; of points with the
        same identity, the last one given is saved.
        """
        # Keyed by identity: one statement cannot upsert a row twice (Postgres refuses), and
        # the last point winning is what one upsert per point used to do.
        latest: dict[PointIdentity, Point] = {}
        # A metric has few series and many points: each series' key is serialised once (JSON
        # encoding every point's dimensions took about a fifth of a 100,000-point save).
        keys: dict[tuple[tuple[str, str], ...], str] = {}
        for point in points:
            series = tuple(point.dimensions.items()) if point.dimensions else ()
            key = keys.get(series)
            if key is None:
                key = keys[series] = point.dimensions_key
                if len(key) > t.DIMENSIONS_KEY_LENGTH:
                    raise StoreError(
                        f"dimensions of the point at {point.ts} are longer than "
                        f"{t.DIMENSIONS_KEY_LENGTH} characters when serialised"
                    )
            ts = point.ts
            if ts.tzinfo is not None:
                # COPY into a `timestamp` column would drop the offset, not convert it.
                ts = ts.astimezone(dt.UTC).replace(tzinfo=None)
            latest[ts, key] = point
        with self.engine.begin() as conn:
            _check_lock(conn, metric_id, run_id)
            if replace:
                conn.execute(
                    t.metric_data_points.delete().where(
                        t.metric_data_points.c.metric_id == metric_id
                    )
                )
            if transformer is not None:
                _upsert_transformer(conn, "ingestion", metric_id, run_id, transformer)
            _write_points(conn, metric_id, run_id, latest, replaced=replace)
            if revision is not None:
                conn.execute(
                    t.metrics.update()
                    .where(t.metrics.c.id == metric_id)
                    .values(last_revision=revision)
                )
        return len(latest)

    def list_points(self, metric_id: str) -> list[Point]:
        """All points of a metric, sorted by timestamp then dimensions."""
        c = t.metric_data_points.c
        query = (
            sa.select(c.ts, c.value, c.dimensions)
            .where(c.metric_id == metric_id)
            .order_by(c.ts, c.dimensions_key)
        )
        with self.engine.connect() as conn:
            return [Point(ts, value, dims) for ts, value, dims in conn.execute(query)]

    def count_points(self, metric_id: str) -> int:
        c = t.metric_data_points.c
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(sa.func.count())
                .select_from(t.metric_data_points)
                .where(c.metric_id == metric_id)
            ).scalar_one()

    def stored_overlap(
        self, metric_id: str, since: dt.datetime, until: dt.datetime
    ) -> tuple[dict[PointIdentity, float], dict[str, dt.datetime]]:
        """What a save over [since, until] would overwrite: the stored values in that range by
        (timestamp, dimensions key), and each stored series' latest timestamp (a series' last
        period may still be filling, so a new value there is no revision)."""
        c = t.metric_data_points.c
        with self.engine.connect() as conn:
            values = {
                (ts, key): value
                for ts, key, value in conn.execute(
                    sa.select(c.ts, c.dimensions_key, c.value).where(
                        c.metric_id == metric_id, c.ts >= since, c.ts <= until
                    )
                )
            }
            # A comprehension, not dict(result): a result has keys(), so dict() would read it
            # as a mapping of column names.
            latest = {
                key: ts
                for key, ts in conn.execute(
                    sa.select(c.dimensions_key, sa.func.max(c.ts))
                    .where(c.metric_id == metric_id)
                    .group_by(c.dimensions_key)
                )
            }
        return values, latest


def _change_reason(key: str, old: Any, new: Any) -> str:
    """Why a change outdates the metric's transformers ("" when it does not)."""
    if key == "config":
        keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        return f"config changed ({', '.join(keys)})"
    return "" if key == "schedule" else f"{key} changed"


def _row_json(row: sa.RowMapping) -> dict[str, Any]:
    """A row as JSON-ready values (timestamps as ISO-8601 UTC)."""
    return {key: iso(value) if key.endswith("_at") else value for key, value in row.items()}


def _check_lock(conn: sa.Connection, metric_id: str, run_id: str) -> None:
    """Refuse a write from a run that does not hold the metric's refresh lock.

    On Postgres the row is locked (FOR UPDATE) until the transaction ends, so a competing
    claim waits; SQLite serialises writers on its own.
    """
    query = sa.select(t.metrics.c.refresh_run_id).where(t.metrics.c.id == metric_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    holder = conn.execute(query).first()
    if holder is None:
        raise MetricNotFoundError(metric_id)
    if holder[0] != run_id:
        raise MetricBusyError(
            f"run {run_id} does not hold the refresh lock of metric '{metric_id}' "
            f"(held by {holder[0] or 'no run'}); nothing was saved"
        )


def _write_points(
    conn: sa.Connection,
    metric_id: str,
    run_id: str,
    points: dict[PointIdentity, Point],
    *,
    replaced: bool,
) -> None:
    """Upsert the points through each engine's bulk path (one per dialect, decided here).

    Postgres: COPY, straight into the table when the metric has no points left to conflict
    with (a first save, a hard refresh), else into a temporary table merged by one INSERT …
    SELECT … ON CONFLICT DO UPDATE. SQLite: executemany of the same upsert.
    """
    if not points:
        return
    now = utcnow()
    table = t.metric_data_points
    if conn.dialect.name != "postgresql":
        rows = [
            {
                "metric_id": metric_id,
                "ts": ts,
                "dimensions_key": key,
                "dimensions": point.dimensions,
                "value": point.value,
                "run_id": run_id,
                "updated_at": now,
            }
            for (ts, key), point in points.items()
        ]
        for start in range(0, len(rows), UPSERT_BATCH):
            _upsert(
                conn,
                table,
                rows[start : start + UPSERT_BATCH],
                keys=POINT_IDENTITY,
                update=POINT_UPDATES,
            )
        return
    # The dimensions as JSON text: the key is their canonical JSON already; json.dumps gives
    # `null` or `{}` for the others, as SQLAlchemy's JSON type would.
    now_text = now.isoformat(" ")  # once, not once per row by the CSV writer
    csv_rows = (
        (metric_id, ts, key, key or json.dumps(point.dimensions), point.value, run_id, now_text)
        for (ts, key), point in points.items()
    )
    # An empty dimensions key is a point without dimensions, not NULL.
    not_null = ("metric_id", "dimensions_key", "run_id")
    empty = (
        replaced
        or not conn.execute(
            sa.select(table.c.id).where(table.c.metric_id == metric_id).limit(1)
        ).first()
    )
    if empty:
        copy_rows(conn, table, POINT_COLUMNS, csv_rows, not_null=not_null)
        return
    staged = staging_table(conn, table, POINT_COLUMNS)
    copy_rows(conn, staged, POINT_COLUMNS, csv_rows, not_null=not_null)
    insert = postgresql.insert(table).from_select(POINT_COLUMNS, sa.select(staged))
    conn.execute(_on_conflict_update(insert, POINT_IDENTITY, POINT_UPDATES))


def _upsert_transformer(
    conn: sa.Connection, kind: str, metric_id: str, run_id: str, transformer: Transformer
) -> None:
    now = utcnow()
    _upsert(
        conn,
        TRANSFORMER_TABLES[kind],
        [
            {
                "metric_id": metric_id,
                "code": transformer.code,
                "generator": transformer.generator,
                "template": transformer.template,
                "run_id": run_id,
                # Written by this run for the metric as it is now.
                "outdated_reason": None,
                "created_at": now,
                "updated_at": now,
            }
        ],
        keys=["metric_id"],
        update=["code", "generator", "template", "run_id", "outdated_reason", "updated_at"],
    )


def _upsert(
    conn: sa.Connection,
    table: sa.Table,
    rows: Iterable[dict[str, Any]],
    *,
    keys: list[str],
    update: list[str],
) -> None:
    """INSERT … ON CONFLICT DO UPDATE, executed as one executemany on either engine."""
    rows = list(rows)
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(_on_conflict_update(dialect.insert(table), keys, update), rows)


def _on_conflict_update(
    stmt: postgresql.Insert | sqlite.Insert, keys: list[str], update: list[str]
) -> postgresql.Insert | sqlite.Insert:
    """`stmt` as an upsert: on a conflict over `keys`, the `update` columns take the new row's."""
    return stmt.on_conflict_do_update(
        index_elements=keys, set_={name: stmt.excluded[name] for name in update}
    )
