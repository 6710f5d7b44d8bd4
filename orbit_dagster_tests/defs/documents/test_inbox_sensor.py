"""The inbox sensor over several ticks: new files once, repeats and copies never again."""

import os

import dagster as dg
import pytest

from orbit_dagster.documents.jobs import DOCUMENT_JOB
from orbit_dagster.store import Store
from orbit_dagster_tests.documents.fixtures import PNG, sample_file

SENSOR = "documents_inbox_sensor"


@pytest.fixture
def inbox(tmp_path, monkeypatch):
    folder = tmp_path / "inbox"
    folder.mkdir()
    monkeypatch.setenv("ORBIT_DOCUMENTS_INBOX", str(folder))
    return folder


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_inbox_sensor_submits_each_new_file_once(
    document_servers, inbox, orbit_env, instance, tmp_path
):
    from orbit_dagster.definitions import defs

    definitions = defs()
    sensor = definitions.resolve_sensor_def(SENSOR)
    job = definitions.resolve_job_def(DOCUMENT_JOB)
    cursor = None

    def tick() -> list[dg.RunRequest]:
        nonlocal cursor
        # `with`: some resources of the code location (OpenAIResource) are context managers.
        with dg.build_sensor_context(
            instance=instance, cursor=cursor, resources=definitions.resources
        ) as context:
            data = sensor.evaluate_tick(context)
        cursor = data.cursor
        return list(data.run_requests or [])

    first = sample_file(inbox, "a.pdf")
    sample_file(inbox, "b.png", PNG)
    (inbox / "notes.txt").write_text("not a document")
    (inbox / ".partial.pdf").write_bytes(b"%PDF-")
    requests = tick()
    assert sorted(r.run_config["ops"]["upload_to_s3"]["config"]["path"] for r in requests) == [
        str(inbox / "a.pdf"),
        str(inbox / "b.png"),
    ]
    for request in requests:
        assert request.run_key == request.tags["orbit/document_sha256"]
        assert job.execute_in_process(
            instance=instance, run_config=request.run_config, tags=request.tags
        ).success

    assert tick() == []  # nothing changed
    (inbox / "a-copy.pdf").write_bytes(first.read_bytes())  # same content, new name
    os.utime(first, ns=(1, 1))  # touched: rehashed, but already completed
    third = sample_file(inbox, "c.pdf")
    requests = tick()
    assert [r.run_config["ops"]["upload_to_s3"]["config"]["path"] for r in requests] == [str(third)]
    assert tick() == []
    assert len(Store(orbit_env).documents.list_documents()) == 2
    assert document_servers.veryfi.posts() == 2


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_inbox_sensor_skips_without_an_inbox(definitions, instance, monkeypatch):
    sensor = definitions.resolve_sensor_def(SENSOR)
    with dg.build_sensor_context(instance=instance, resources=definitions.resources) as context:
        data = sensor.evaluate_tick(context)
    assert not data.run_requests
    assert "ORBIT_DOCUMENTS_INBOX is not set" in (data.skip_message or "")
