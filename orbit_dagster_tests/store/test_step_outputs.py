"""Step outputs kept for re-execution, on both engines: saved compressed, replaced by a retry,
deleted per run, swept by age."""

import datetime as dt
import os

import sqlalchemy as sa

from orbit_dagster.store import schema as t
from orbit_dagster.store.step_outputs import RETENTION

STEP = "metric_refresh.fetch_api_data"


def stored_bytes(store, run_id: str) -> bytes:
    with store.engine.connect() as conn:
        return conn.execute(
            sa.select(t.step_outputs.c.data).where(t.step_outputs.c.run_id == run_id)
        ).scalar_one()


def age(store, run_id: str, days: float) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            t.step_outputs.update()
            .where(t.step_outputs.c.run_id == run_id)
            .values(created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days))
        )


def test_an_output_comes_back_as_saved_and_is_stored_compressed(store):
    data = b'{"payload": "' + b"abc" * 100_000 + b'", "noise": "' + os.urandom(8).hex().encode()
    store.step_outputs.save("r1", STEP, "result", data)
    assert store.step_outputs.load("r1", STEP, "result") == data
    assert len(stored_bytes(store, "r1")) < len(data) / 50
    assert store.step_outputs.load("r1", STEP, "other") is None
    assert store.step_outputs.load("r2", STEP, "result") is None


def test_a_retried_step_replaces_its_output(store):
    store.step_outputs.save("r1", STEP, "result", b"first")
    store.step_outputs.save("r1", STEP, "result", b"second")
    assert store.step_outputs.load("r1", STEP, "result") == b"second"


def test_deleting_runs_removes_only_their_outputs(store):
    for run_id in ("parent", "child", "other"):
        store.step_outputs.save(run_id, STEP, "result", run_id.encode())
    assert store.step_outputs.delete(["child", "parent"]) == 2
    assert store.step_outputs.load("parent", STEP, "result") is None
    assert store.step_outputs.load("child", STEP, "result") is None
    assert store.step_outputs.load("other", STEP, "result") == b"other"


def test_the_sweep_removes_outputs_older_than_the_retention(store):
    store.step_outputs.save("old", STEP, "result", b"old")
    store.step_outputs.save("recent", STEP, "result", b"recent")
    age(store, "old", RETENTION.days + 0.5)
    age(store, "recent", RETENTION.days - 0.5)
    assert store.step_outputs.sweep() == 1
    assert store.step_outputs.load("old", STEP, "result") is None
    assert store.step_outputs.load("recent", STEP, "result") == b"recent"
