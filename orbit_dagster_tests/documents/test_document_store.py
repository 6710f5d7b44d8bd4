"""`DocumentStore` on SQLite and Postgres: upsert by sha256, update, failures, lookups."""

import datetime as dt

import pytest

from orbit_dagster.store.documents import DocumentNotFoundError
from orbit_dagster.store.records import StoreError

SHA = "b" * 64


def uploaded(store, sha=SHA, **values):
    row = {
        "file_name": "r.pdf",
        "size_bytes": 10,
        "content_type": "application/pdf",
        "s3_bucket": "bucket",
        "s3_key": f"documents/2026/11/{sha}/r.pdf",
        "status": "uploaded",
    }
    return store.documents.upsert(sha, **{**row, **values})


def test_upsert_by_sha256_keeps_one_row(store):
    first = uploaded(store)
    again = uploaded(store, run_id="run-2")
    assert again["id"] == first["id"] and again["run_id"] == "run-2"
    assert len(store.documents.list_documents()) == 1


def test_update_completes_and_get_finds_by_id_or_sha(store):
    row = uploaded(store)
    store.documents.update(
        SHA,
        status="completed",
        veryfi_id="1001",
        vendor_name="Acme",
        total=42.5,
        currency="USD",
        line_items=[{"description": "x", "total": 42.5}],
        veryfi_response={"id": 1001, "total": 42.5},
    )
    by_id = store.documents.get(str(row["id"]))
    assert by_id == store.documents.get(SHA.upper())
    assert by_id["total"] == 42.5 and by_id["line_items"][0]["description"] == "x"
    assert by_id["veryfi_response"] == {"id": 1001, "total": 42.5}
    assert "veryfi_response" not in store.documents.list_documents()[0]


def test_mark_failed_keeps_the_row_and_the_error(store):
    uploaded(store)
    store.documents.mark_failed(SHA, "Veryfi refused it")
    row = store.documents.get(SHA)
    assert row["status"] == "failed" and row["error"] == "Veryfi refused it"
    assert row["s3_key"]


def test_unknown_documents_and_bad_values_are_refused(store):
    with pytest.raises(DocumentNotFoundError):
        store.documents.get("42")
    with pytest.raises(DocumentNotFoundError):
        store.documents.update(SHA, status="completed")
    with pytest.raises(StoreError, match="invalid document status"):
        uploaded(store, sha="c" * 64, status="done")


def test_record_run_writes_one_row_per_run(store):
    started = dt.datetime(2026, 11, 25, 12, 0)
    for _ in range(2):
        store.documents.record_run(
            "run-1",
            "process_document",
            status="success",
            started_at=started,
            stages=[{"step": "upload_to_s3", "status": "success", "durationMs": 5}],
        )
    (run,) = store.documents.runs("process_document")
    assert run["metric_id"] is None and run["stages"][0]["durationMs"] == 5
