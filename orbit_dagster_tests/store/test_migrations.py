"""Migrations create exactly the declared schema and upgrade without losing rows."""

import subprocess
import sys

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from orbit_dagster.store import migrate
from orbit_dagster.store.schema import metadata


def test_migrated_database_matches_the_declared_schema(store):
    with store.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "version_table": migrate.VERSION_TABLE}
        )
        assert compare_metadata(context, metadata) == []


def test_upgrading_again_keeps_rows(store):
    store.add_metric("m", name="M", template="file", config={"path": "p"})
    migrate.upgrade(store.engine)
    with store.engine.connect() as conn:
        version = migrate.current_revision(conn)
        head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
        # The revision the quick path compares against is Alembic's own head.
        assert version == head == migrate.newest_revision()
    assert store.get_metric("m")["name"] == "M"


def test_fresh_sqlite_file_is_created_and_migrated(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    migrate.upgrade(engine)
    assert "metric_data_points" in sa.inspect(engine).get_table_names()


def test_opening_a_current_store_does_not_import_alembic(store):
    """A process opening an up-to-date store pays one query, not Alembic's import."""
    url = store.engine.url.render_as_string(hide_password=False)
    opened = subprocess.run(
        [sys.executable, "-c", OPEN_AND_REPORT, url], capture_output=True, text=True, timeout=60
    )
    assert opened.returncode == 0, opened.stderr
    assert opened.stdout.split() == ["alembic-imported:", "False", "metrics:", "0"]


def test_a_store_behind_the_newest_revision_is_upgraded_when_opened(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = sa.create_engine(url)
    migrate.upgrade(engine, "0005")
    with engine.connect() as conn:
        assert migrate.current_revision(conn) == "0005"
    assert "last_revision" not in {c["name"] for c in sa.inspect(engine).get_columns("metrics")}
    opened = subprocess.run(
        [sys.executable, "-c", OPEN_AND_REPORT, url], capture_output=True, text=True, timeout=60
    )
    assert opened.stdout.split() == ["alembic-imported:", "True", "metrics:", "0"], opened.stderr
    with engine.connect() as conn:
        assert migrate.current_revision(conn) == migrate.newest_revision()


OPEN_AND_REPORT = """
import sys
from orbit_dagster.store import Store
store = Store(sys.argv[1])
print("alembic-imported:", "alembic" in sys.modules, "metrics:", len(store.list_metrics()))
"""
