"""The Orbit store's tables (SQLAlchemy Core), identical on SQLite and Postgres.

Timestamps are naive UTC everywhere, so both engines compare them the same way. Everything a
metric owns (points, transformers, chart config, step log, run records) references it with
ON DELETE CASCADE: deleting a metric leaves no orphans. The migrations in `migrations/`
create exactly these tables; `test_migrations` checks the two never drift apart.
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData(
    naming_convention={
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

# JSONB on Postgres (indexable, compact); a JSON text column on SQLite.
Json = sa.JSON().with_variant(JSONB(), "postgresql")
# 64-bit ids on Postgres; SQLite only auto-increments an INTEGER PRIMARY KEY.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

ID_LENGTH = 128
NAME_LENGTH = 200
# Dimensions are part of a point's identity; they are stored a second time as canonical JSON
# text so that one unique index works on both engines (JSON columns are not comparable).
DIMENSIONS_KEY_LENGTH = 1000


def _metric_fk(**kwargs) -> sa.Column:
    return sa.Column(
        "metric_id",
        sa.String(ID_LENGTH),
        sa.ForeignKey("metrics.id", ondelete="CASCADE"),
        nullable=False,
        **kwargs,
    )


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    ]


integrations = sa.Table(
    "integrations",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("name", sa.String(NAME_LENGTH), nullable=False),
    sa.Column("kind", sa.String(50), nullable=False),
    # Non-secret settings only: secrets are named by environment variable, never stored.
    sa.Column("config", Json, nullable=False),
    sa.Column("organization", sa.String(ID_LENGTH), nullable=True, index=True),
    *_timestamps(),
)

metrics = sa.Table(
    "metrics",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("name", sa.String(NAME_LENGTH), nullable=False),
    sa.Column("description", sa.Text(), nullable=False, server_default=""),
    sa.Column("template", sa.String(64), nullable=False),
    sa.Column(
        "integration_id",
        sa.String(ID_LENGTH),
        sa.ForeignKey("integrations.id", ondelete="SET NULL"),
        nullable=True,
    ),
    sa.Column("config", Json, nullable=False),
    sa.Column("schedule", sa.String(100), nullable=True),
    sa.Column("organization", sa.String(ID_LENGTH), nullable=True, index=True),
    # The step a refresh is in right now, and the run that holds the metric's refresh lock.
    sa.Column("refresh_status", sa.String(64), nullable=True),
    sa.Column("refresh_run_id", sa.String(64), nullable=True),
    sa.Column("last_fetched_at", sa.DateTime(), nullable=True),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("last_error_at", sa.DateTime(), nullable=True),
    # What the last save changed in the points the metric already had (`quality.revisions`).
    sa.Column("last_revision", Json, nullable=True),
    *_timestamps(),
)

metric_data_points = sa.Table(
    "metric_data_points",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    _metric_fk(),
    sa.Column("ts", sa.DateTime(), nullable=False),
    sa.Column("dimensions_key", sa.String(DIMENSIONS_KEY_LENGTH), nullable=False),
    sa.Column("dimensions", Json, nullable=True),
    sa.Column("value", sa.Float(precision=53), nullable=False),
    sa.Column("run_id", sa.String(64), nullable=True),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    sa.UniqueConstraint("metric_id", "ts", "dimensions_key", name="uq_metric_data_points_identity"),
)


def _transformer_table(name: str) -> sa.Table:
    """Ingestion and chart transformers share one shape: one per metric, owned by it."""
    return sa.Table(
        name,
        metadata,
        sa.Column(
            "metric_id",
            sa.String(ID_LENGTH),
            sa.ForeignKey("metrics.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("generator", sa.String(64), nullable=False),
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        # Set when the metric's name, description or config changed after this code was
        # written: the next refresh, even a soft one, writes the transformer anew.
        sa.Column("outdated_reason", sa.Text(), nullable=True),
        *_timestamps(),
    )


ingestion_transformers = _transformer_table("ingestion_transformers")
chart_transformers = _transformer_table("chart_transformers")

chart_configs = sa.Table(
    "chart_configs",
    metadata,
    sa.Column(
        "metric_id",
        sa.String(ID_LENGTH),
        sa.ForeignKey("metrics.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("spec", Json, nullable=False),
    sa.Column("run_id", sa.String(64), nullable=True),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
)

# The step log: one row per (run, metric, step), written as the plan when a run starts and
# updated as each step runs. `endpoint` is `pipeline:<step>`, as the product front end reads it.
metric_api_logs = sa.Table(
    "metric_api_logs",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    _metric_fk(index=True),
    sa.Column("run_id", sa.String(64), nullable=False, index=True),
    sa.Column("seq", sa.Integer(), nullable=False),
    sa.Column("endpoint", sa.String(200), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("started_at", sa.DateTime(), nullable=True),
    sa.Column("finished_at", sa.DateTime(), nullable=True),
    sa.Column("duration_ms", sa.Integer(), nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("detail", sa.Text(), nullable=True),
    sa.UniqueConstraint("run_id", "metric_id", "endpoint", name="uq_metric_api_logs_step"),
)

pipelines = sa.Table(
    "pipelines",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("kind", sa.String(50), nullable=False),
    sa.Column("description", sa.Text(), nullable=False, server_default=""),
    sa.Column("schedule", sa.String(100), nullable=True),
    sa.Column("is_active", sa.Boolean(), nullable=False),
    *_timestamps(),
)

pipeline_runs = sa.Table(
    "pipeline_runs",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(64), nullable=False, index=True),
    sa.Column("pipeline_name", sa.String(200), nullable=False),
    # One row per metric a run refreshes (a batch run covers many); null for other pipelines.
    sa.Column(
        "metric_id",
        sa.String(ID_LENGTH),
        sa.ForeignKey("metrics.id", ondelete="CASCADE"),
        nullable=True,
        index=True,
    ),
    sa.Column("mode", sa.String(20), nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("started_at", sa.DateTime(), nullable=False),
    sa.Column("finished_at", sa.DateTime(), nullable=True),
    # Per-stage results: [{"step", "status", "durationMs", "error"}], written as the run ends.
    sa.Column("stages", Json, nullable=False),
    sa.Column("error", sa.Text(), nullable=True),
    sa.UniqueConstraint("run_id", "metric_id", name="uq_pipeline_runs_run_metric"),
)

# One row per process working on a run, rewritten every few seconds while it works (see
# `orbit_dagster/liveness.py`): a run whose process is gone, or that stopped beating, is dead
# even while Dagster still shows it started (a `kill -9`'d run has no one to report its end).
run_heartbeats = sa.Table(
    "run_heartbeats",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("host", sa.String(255), primary_key=True),
    sa.Column("pid", sa.Integer(), primary_key=True, autoincrement=False),
    # The process's own start time (seconds since the epoch): a reused pid is another process.
    sa.Column("process_started", sa.Float(), nullable=False),
    # Not a foreign key: document runs beat too, and a run outlives nothing it refers to.
    sa.Column("metric_id", sa.String(ID_LENGTH), nullable=True),
    sa.Column("step", sa.String(100), nullable=True),
    sa.Column("started_at", sa.DateTime(), nullable=False),
    sa.Column("beat_at", sa.DateTime(), nullable=False),
)

# One row per document, identified by the SHA-256 of its bytes: a file submitted again (CLI,
# sensor, re-run) finds its row instead of being uploaded and extracted a second time.
veryfi_documents = sa.Table(
    "veryfi_documents",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("veryfi_id", sa.String(64), nullable=True),
    sa.Column("s3_bucket", sa.String(255), nullable=True),
    sa.Column("s3_key", sa.String(1024), nullable=True),
    sa.Column("file_name", sa.String(255), nullable=False),
    sa.Column("size_bytes", sa.BigInteger(), nullable=False),
    sa.Column("content_type", sa.String(100), nullable=False),
    # uploaded → processing → completed, or failed (with `error`) at any step.
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("vendor_name", sa.String(500), nullable=True),
    sa.Column("total", sa.Numeric(18, 4), nullable=True),
    sa.Column("currency", sa.String(8), nullable=True),
    sa.Column("document_date", sa.Date(), nullable=True),
    sa.Column("line_items", Json, nullable=True),
    sa.Column("veryfi_response", Json, nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("run_id", sa.String(64), nullable=True),
    *_timestamps(),
)

# What one step of a run hands the next (a refresh's state between its ops), kept so that a
# re-execution from a failed step finds the outputs of the steps that succeeded, on any
# executor: every step process reaches the store. Opaque, compressed bytes: the writer
# chooses the encoding. Deleted when the run's refresh succeeds, swept some days after a
# failure (`step_outputs.py`).
step_outputs = sa.Table(
    "step_outputs",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("step_key", sa.String(255), primary_key=True),
    sa.Column("output_name", sa.String(255), primary_key=True),
    sa.Column("data", sa.LargeBinary(), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False, index=True),
)
