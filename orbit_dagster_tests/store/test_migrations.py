"""Migrations create exactly the declared schema and upgrade without losing rows."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from orbit_dagster.store import migrate
from orbit_dagster.store.schema import metadata


def test_migrated_database_matches_the_declared_schema(store):
    with store.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "version_table": "orbit_alembic_version"}
        )
        assert compare_metadata(context, metadata) == []


def test_upgrading_again_keeps_rows(store):
    store.add_metric("m", name="M", template="file", config={"path": "p"})
    migrate.upgrade(store.engine)
    with store.engine.connect() as conn:
        version = conn.exec_driver_sql("SELECT version_num FROM orbit_alembic_version").scalar()
        assert version == ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    assert store.get_metric("m")["name"] == "M"


def test_fresh_sqlite_file_is_created_and_migrated(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    migrate.upgrade(engine)
    assert "metric_data_points" in sa.inspect(engine).get_table_names()
