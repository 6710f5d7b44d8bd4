"""`StepOutputs`: what one step of a run hands the next, kept in the store for re-execution.

A row per (run, step, output) holds opaque bytes, zlib-compressed here (the caller chooses the
encoding). Dagster's re-execution of a failed run loads the outputs of the parent run's steps
that succeeded from these rows, whichever process or host runs the step: every step reaches
the store, not necessarily the same disk. The caller deletes a run's rows, and those of the
runs it re-executed, when it completes; the rest are swept `RETENTION` after they were
written, so a failed run can be re-executed for that long.
"""

import datetime as dt
import zlib
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from orbit_dagster.store import schema as t
from orbit_dagster.store.records import utcnow

# How long the outputs of a run that did not complete stay re-executable.
RETENTION = dt.timedelta(days=7)
# Fast compression: a state is written once per step, and its JSON shrinks ~12x even so.
COMPRESSION_LEVEL = 1

_outputs = t.step_outputs


class StepOutputs:
    def __init__(self, engine: sa.Engine):
        self.engine = engine

    def save(self, run_id: str, step_key: str, output_name: str, data: bytes) -> None:
        """Keep one output; a step that runs again in the same run (a retry) replaces it."""
        row = {
            "run_id": run_id,
            "step_key": step_key,
            "output_name": output_name,
            "data": zlib.compress(data, COMPRESSION_LEVEL),
            "created_at": utcnow(),
        }
        with self.engine.begin() as conn:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            stmt = dialect.insert(_outputs).values(row)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["run_id", "step_key", "output_name"],
                    set_={"data": stmt.excluded.data, "created_at": stmt.excluded.created_at},
                )
            )

    def load(self, run_id: str, step_key: str, output_name: str) -> bytes | None:
        """The output's bytes, or None when it was never kept or is gone (completed, swept)."""
        c = _outputs.c
        with self.engine.connect() as conn:
            data = conn.execute(
                sa.select(c.data).where(
                    c.run_id == run_id, c.step_key == step_key, c.output_name == output_name
                )
            ).scalar()
        return None if data is None else zlib.decompress(data)

    def delete(self, run_ids: Sequence[str]) -> int:
        """Delete every output of these runs; how many rows."""
        with self.engine.begin() as conn:
            return conn.execute(_outputs.delete().where(_outputs.c.run_id.in_(run_ids))).rowcount

    def sweep(self, retention: dt.timedelta = RETENTION) -> int:
        """Delete the outputs written more than `retention` ago; how many rows."""
        with self.engine.begin() as conn:
            return conn.execute(
                _outputs.delete().where(_outputs.c.created_at < utcnow() - retention)
            ).rowcount
