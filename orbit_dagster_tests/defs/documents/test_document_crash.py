"""A document run killed with SIGKILL (a real `orbit documents submit` process) during the
upload to S3 and during the Veryfi call, then `orbit recover --auto-resume`: one S3 object,
one Veryfi document, one completed row, and the dead run failed with its reason."""

import os
import signal
import subprocess
import sys
import threading
import time

import dagster as dg
import pytest

from orbit_dagster.dagster_api.interrupted import INTERRUPTED_TAG
from orbit_dagster.store import Store
from orbit_dagster_tests.documents import veryfi_server as vs
from orbit_dagster_tests.documents.fixtures import document_servers, s3_server, sample_file

__all__ = ["document_servers", "s3_server"]  # fixtures used by the tests below


@pytest.mark.parametrize("stage", ["upload_to_s3", "veryfi_process"])
def test_a_document_run_killed_mid_call_is_resumed_without_a_second_copy(
    document_servers, tmp_path, stage
):
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("ORBIT_DATABASE_URL", "DAGSTER_HOME")},
        "ORBIT_DATA_DIR": str(tmp_path / "data"),
    }
    orbit = [sys.executable, "-m", "orbit_dagster.cli"]
    path = sample_file(tmp_path)
    if stage == "upload_to_s3":
        document_servers.s3.hold = threading.Event()
        reached = lambda: document_servers.puts() == 1  # noqa: E731
    else:
        document_servers.veryfi.answers.append(vs.Answer(delay=120))
        reached = lambda: document_servers.veryfi.posts() == 1  # noqa: E731
    process = subprocess.Popen(
        [*orbit, "documents", "submit", str(path)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not reached() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None and reached(), f"the run never reached {stage}"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    if document_servers.s3.hold is not None:
        document_servers.s3.hold.set()

    recovered = subprocess.run(
        [*orbit, "recover", "--auto-resume"], env=env, capture_output=True, text=True, timeout=300
    )
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    assert "failed 1 dead run(s)" in recovered.stdout and "resumed run " in recovered.stdout

    assert len(document_servers.object_keys()) == 1
    assert len(document_servers.veryfi.documents) == 1
    assert document_servers.veryfi.posts() == 1
    store = Store(f"sqlite:///{tmp_path / 'data' / 'orbit.sqlite3'}")
    (row,) = store.documents.list_documents()
    assert row["status"] == "completed" and row["error"] is None
    instance = dg.DagsterInstance.from_config(str(tmp_path / "data" / "dagster_home"))
    (dead,) = [r for r in instance.get_runs() if INTERRUPTED_TAG in r.tags]
    assert dead.status == dg.DagsterRunStatus.FAILURE and "is gone" in dead.tags[INTERRUPTED_TAG]
    (child,) = [r for r in instance.get_runs() if r.parent_run_id == dead.run_id]
    assert child.status == dg.DagsterRunStatus.SUCCESS
