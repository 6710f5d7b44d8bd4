"""The `process_document` job against moto's S3 server and the local Veryfi server."""

import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import dagster as dg
import httpx
import pytest

from orbit_dagster.documents.jobs import DOCUMENT_JOB
from orbit_dagster.store import Store
from orbit_dagster_tests.documents import veryfi_server as vs
from orbit_dagster_tests.documents.fixtures import SECRETS, sample_file

JOB = DOCUMENT_JOB
# Step behaviour does not depend on the engine: these run on SQLite only; the happy path, the
# duplicate and the re-execution run on both engines.
SQLITE_ONLY = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)


@pytest.fixture
def store(orbit_env) -> Store:
    return Store(orbit_env)


@pytest.fixture
def run(document_servers, definitions, instance):
    """Run the job for one path on the test's instance; returns the result."""

    def execute(path, definitions=definitions) -> dg.ExecuteInProcessResult:
        return definitions.resolve_job_def(JOB).execute_in_process(
            instance=instance,
            run_config={"ops": {"upload_to_s3": {"config": {"path": str(path)}}}},
            raise_on_error=False,
        )

    return execute


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    failures = [e for e in result.all_events if e.is_step_failure]
    data = failures[0].step_failure_data
    if data.user_failure_data and data.user_failure_data.description:
        return data.user_failure_data.description
    assert data.error is not None
    return data.error.message


def test_file_goes_to_s3_veryfi_and_the_store(run, document_servers, store, tmp_path):
    path = sample_file(tmp_path, "Receipt Nov.pdf")
    result = run(path)
    assert result.success
    (row,) = store.documents.list_documents()
    assert row["status"] == "completed"
    assert row["vendor_name"] == "Acme Office Supply"
    assert row["total"] == 42.5 and row["currency"] == "USD"
    assert row["document_date"] == "2026-11-02"
    assert [item["description"] for item in row["line_items"]] == ["Paper A4", "Stapler"]
    assert row["content_type"] == "application/pdf" and row["size_bytes"] == path.stat().st_size
    assert row["s3_key"].endswith(f"/{row['sha256']}/Receipt Nov.pdf")
    assert document_servers.object_keys() == [row["s3_key"]]
    (body,) = document_servers.veryfi.bodies
    assert body["external_id"] == row["sha256"] and body["file_name"] == "Receipt Nov.pdf"
    assert row["veryfi_id"] == str(next(iter(document_servers.veryfi.documents)))
    # The summary: metadata in the UI and one pipeline_runs row.
    metadata = [
        e.event_specific_data.metadata
        for e in result.events_for_node("summary")
        if e.is_successful_output
    ][0]
    assert metadata["vendor"].value == "Acme Office Supply"
    assert metadata["total"].value == 42.5
    assert set(metadata["step_durations_ms"].value) == {
        "upload_to_s3",
        "veryfi_process",
        "store_results",
    }
    (run_row,) = store.documents.runs(JOB)
    assert run_row["run_id"] == result.run_id and run_row["status"] == "success"


def test_the_same_file_twice_is_one_put_one_post_one_row(run, document_servers, store, tmp_path):
    path = sample_file(tmp_path)
    assert run(path).success
    copy = tmp_path / "copy-of-receipt.pdf"
    copy.write_bytes(path.read_bytes())
    second = run(copy)
    assert second.success
    assert document_servers.puts() == 1
    assert document_servers.veryfi.posts() == 1
    (row,) = store.documents.list_documents()
    assert row["status"] == "completed" and row["file_name"] == "receipt.pdf"


@SQLITE_ONLY
def test_a_hostile_file_name_is_cleaned_everywhere(run, document_servers, store, tmp_path):
    path = sample_file(tmp_path, "..\\..\\evil\x07 name .pdf")
    assert run(path).success
    (row,) = store.documents.list_documents()
    assert row["file_name"] == "evil_ name .pdf"
    assert row["s3_key"] == f"documents/{row['created_at'][:4]}/{row['created_at'][5:7]}/" + (
        f"{row['sha256']}/evil_ name .pdf"
    )
    assert document_servers.object_keys() == [row["s3_key"]]
    assert document_servers.veryfi.bodies[0]["file_name"] == "evil_ name .pdf"


@SQLITE_ONLY
def test_veryfi_can_fetch_a_presigned_url_instead_of_bytes(
    document_servers, orbit_env, instance, store, tmp_path, monkeypatch
):
    monkeypatch.setenv("VERYFI_SEND_FILE_URL", "true")
    from orbit_dagster.definitions import defs

    path = sample_file(tmp_path)
    result = (
        defs()
        .resolve_job_def(JOB)
        .execute_in_process(
            instance=instance, run_config={"ops": {"upload_to_s3": {"config": {"path": str(path)}}}}
        )
    )
    assert result.success
    (body,) = document_servers.veryfi.bodies
    assert "file_data" not in body
    query = dict(parse_qsl(urlsplit(body["file_url"]).query))
    assert "Signature" in query and int(query["Expires"]) <= time.time() + 600
    assert httpx.get(body["file_url"]).content == path.read_bytes()


@SQLITE_ONLY
def test_veryfi_500_then_201_is_retried_into_one_document(run, document_servers, store, tmp_path):
    document_servers.veryfi.answers.append(vs.Answer(status=500, message="Internal error"))
    result = run(sample_file(tmp_path))
    assert result.success
    assert document_servers.veryfi.posts() == 2
    assert len(document_servers.veryfi.documents) == 1
    assert store.documents.list_documents()[0]["status"] == "completed"


@SQLITE_ONLY
def test_veryfi_429_waits_for_retry_after(run, document_servers, store, tmp_path):
    document_servers.veryfi.answers.append(
        vs.Answer(status=429, message="Too many requests", retry_after="1")
    )
    result = run(sample_file(tmp_path))
    assert result.success
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert len(retries) == 1
    assert retries[0].event_specific_data.seconds_to_wait == 1
    assert document_servers.veryfi.posts() == 2


@SQLITE_ONLY
def test_veryfi_400_fails_at_once_with_its_message(run, document_servers, store, tmp_path):
    document_servers.veryfi.answers.append(vs.Answer(status=400, message="Unsupported file"))
    result = run(sample_file(tmp_path))
    assert not result.success
    assert "Unsupported file" in failure_message(result)
    assert document_servers.veryfi.posts() == 1  # not retried
    (row,) = store.documents.list_documents()
    assert row["status"] == "failed" and "Unsupported file" in row["error"]
    assert document_servers.object_keys() == [row["s3_key"]]  # the upload stays


@SQLITE_ONLY
def test_a_slow_veryfi_times_out_and_the_retry_finds_the_landed_document(
    run, document_servers, store, tmp_path, monkeypatch
):
    monkeypatch.setenv("VERYFI_TIMEOUT", "300")
    document_servers.veryfi.answers.append(vs.Answer(delay=1.5))
    from orbit_dagster.definitions import defs

    result = run(sample_file(tmp_path), definitions=defs())
    assert result.success
    # The first POST landed after the client gave up; the retry looked it up by external_id.
    assert document_servers.veryfi.posts() == 1
    assert len(document_servers.veryfi.documents) == 1
    failures = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert failures, "the timeout should have been retried"
    assert store.documents.list_documents()[0]["status"] == "completed"


def test_reexecution_from_failure_finishes_without_a_second_put(
    document_servers, orbit_env, instance, store, tmp_path
):
    document_servers.veryfi.answers.append(vs.Answer(status=400, message="Temporarily refused"))
    path = sample_file(tmp_path)
    config = {"ops": {"upload_to_s3": {"config": {"path": str(path)}}}}
    job = dg.reconstructable(process_document_job)
    with dg.execute_job(job, instance, run_config=config) as first:
        assert not first.success
    assert store.documents.list_documents()[0]["status"] == "failed"
    options = dg.ReexecutionOptions.from_failure(first.run_id, instance)
    with dg.execute_job(job, instance, reexecution_options=options) as second:
        assert second.success
        executed = {e.step_key for e in second.all_events if e.is_step_success}
    assert executed == {"veryfi_process", "store_results", "summary"}
    assert document_servers.puts() == 1
    (row,) = store.documents.list_documents()
    assert row["status"] == "completed" and row["error"] is None


def process_document_job() -> dg.JobDefinition:
    """The job as a reconstructable target (module level), for execute_job re-execution."""
    from orbit_dagster.definitions import defs

    return defs().resolve_job_def(JOB)


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("missing.pdf", None, "no such file"),
        ("empty.pdf", b"", "the file is empty"),
        ("notes.txt", b"just some text", "unsupported file type"),
        ("fake.pdf", b"MZ\x90\x00 an executable", "unsupported file type"),
        ("mislabelled.png", b"%PDF-1.7\n", "the name says image/png but the content is"),
    ],
)
def test_bad_input_fails_before_anything_is_sent(
    run, document_servers, store, tmp_path, name, content, reason
):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = run(path)
    assert not result.success
    message = failure_message(result)
    assert str(path) in message and reason in message
    assert document_servers.s3.requests == [] and document_servers.veryfi.requests == []
    assert store.documents.list_documents() == []


@SQLITE_ONLY
def test_a_file_over_the_size_limit_is_refused(
    document_servers, orbit_env, instance, store, tmp_path, monkeypatch
):
    monkeypatch.setenv("ORBIT_DOCUMENTS_MAX_BYTES", "100")
    from orbit_dagster.definitions import defs

    path = tmp_path / "big.pdf"
    path.write_bytes(b"%PDF-1.7\n" + b"0" * 200)
    result = (
        defs()
        .resolve_job_def(JOB)
        .execute_in_process(
            instance=instance,
            run_config={"ops": {"upload_to_s3": {"config": {"path": str(path)}}}},
            raise_on_error=False,
        )
    )
    assert "over the size limit of 100 bytes" in failure_message(result)
    assert document_servers.s3.requests == [] and document_servers.veryfi.requests == []


@SQLITE_ONLY
def test_missing_credentials_are_named_not_traced(orbit_env, instance, tmp_path, monkeypatch):
    for name in ("AWS_S3_BUCKET", "AWS_REGION", "VERYFI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    from orbit_dagster.definitions import defs

    result = (
        defs()
        .resolve_job_def(JOB)
        .execute_in_process(
            instance=instance,
            run_config={"ops": {"upload_to_s3": {"config": {"path": str(sample_file(tmp_path))}}}},
            raise_on_error=False,
        )
    )
    assert failure_message(result) == "AWS_S3_BUCKET, AWS_REGION are not set"


@SQLITE_ONLY
def test_no_secret_reaches_the_store_logs_or_dagster_home(
    run, document_servers, store_url, instance, tmp_path
):
    result = run(sample_file(tmp_path))
    assert result.success
    assert document_servers.veryfi.requests  # the signed requests were accepted
    files = [Path(store_url.removeprefix("sqlite:///"))]
    files += [p for p in Path(instance.root_directory).rglob("*") if p.is_file()]
    logs = "\n".join(str(record) for record in instance.all_logs(result.run_id))
    for secret in SECRETS:
        assert secret not in logs
        for path in files:
            assert secret.encode() not in path.read_bytes(), f"{secret!r} found in {path}"
