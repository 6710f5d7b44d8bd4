"""Alembic environment for the Orbit store: runs on the connection `migrate.upgrade` hands in.

Alembic is used instead of hand-rolled versioning because it records the applied revision in
the database, runs each migration in a transaction and handles SQLite's limited ALTER TABLE
(batch mode), which is what "upgrade an existing database without losing rows" needs.
"""

from alembic import context

from orbit_dagster.store.migrate import VERSION_TABLE
from orbit_dagster.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=True,  # SQLite rebuilds tables for ALTERs; batch mode keeps rows.
    compare_type=True,
)
with context.begin_transaction():
    if connection.dialect.name == "postgresql":
        # Two processes starting at once (webserver, daemon, CLI) must not migrate twice.
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(72120001)")
    context.run_migrations()
