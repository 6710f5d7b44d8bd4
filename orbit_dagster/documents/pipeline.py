"""The document pipeline's steps as plain functions: upload, extract, save, summarise.

Each step first looks at what the store (and S3, and Veryfi by `external_id`) already has for
the document's SHA-256, so running a step again — a retry, a re-execution from failure, the
same file submitted twice — reuses the earlier result instead of repeating the side effect.
"""

import base64
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dateutil import parser as dateparser

from orbit_dagster.documents import s3
from orbit_dagster.documents.checks import LocalDocument, s3_key
from orbit_dagster.documents.veryfi import VeryfiClient
from orbit_dagster.store.documents import DocumentStore
from orbit_dagster.store.records import utcnow


class MissingSettingError(Exception):
    """A required environment variable is not set; the message names it."""


def require_settings(settings: Mapping[str, str | None]) -> None:
    """Refuse to start a step whose environment variables (name → value) are not all set."""
    missing = [name for name, value in settings.items() if not value]
    if missing:
        raise MissingSettingError(
            ", ".join(missing) + (" is not set" if len(missing) == 1 else " are not set")
        )


@dataclass(frozen=True)
class UploadedDocument:
    """What the later steps need about a document in S3 (no file contents, no secrets)."""

    sha256: str
    path: str
    file_name: str
    content_type: str
    size: int
    bucket: str
    key: str
    uploaded: bool  # False when an earlier run had already put the object


def upload(
    store: DocumentStore, client: Any, bucket: str, document: LocalDocument, run_id: str
) -> UploadedDocument:
    """Put the file in S3 unless the store and S3 already have it; record the row."""
    row = store.find(document.sha256)
    if row and row["s3_key"] and s3.object_exists(client, row["s3_bucket"], row["s3_key"]):
        bucket, key, uploaded = row["s3_bucket"], row["s3_key"], False
    else:
        key = s3_key(document.sha256, document.file_name, document.content_type, utcnow())
        s3.put_document(client, bucket, key, document)
        uploaded = True
        store.upsert(
            document.sha256,
            file_name=_name_in(key),
            size_bytes=document.size,
            content_type=document.content_type,
            s3_bucket=bucket,
            s3_key=key,
            status="uploaded",
            error=None,
            run_id=run_id,
        )
    return UploadedDocument(
        sha256=document.sha256,
        path=document.path,
        file_name=_name_in(key),
        content_type=document.content_type,
        size=document.size,
        bucket=bucket,
        key=key,
        uploaded=uploaded,
    )


def _name_in(key: str) -> str:
    """The sanitised file name at the end of an S3 key: what the store and Veryfi get."""
    return key.rsplit("/", 1)[-1]


def file_field(
    document: UploadedDocument, s3_client: Any | None = None
) -> Callable[[], dict[str, str]]:
    """Veryfi's file field, made only if a submission is needed: a short-lived presigned URL
    of the private object when an S3 client is given, else the bytes as base64 `file_data`."""
    if s3_client is not None:
        return lambda: {"file_url": s3.presigned_url(s3_client, document.bucket, document.key)}
    return lambda: {"file_data": base64.b64encode(Path(document.path).read_bytes()).decode()}


def extract(
    store: DocumentStore,
    client: VeryfiClient,
    document: UploadedDocument,
    file_field: Callable[[], Mapping[str, str]],
) -> tuple[dict[str, Any], bool]:
    """Veryfi's extraction of the document and whether this call submitted it.

    A completed row is reused; otherwise Veryfi is asked by `external_id` (the SHA-256) before
    any submission, so a submission that timed out but did land is not sent twice.
    """
    row = store.find(document.sha256)
    if row and row["status"] == "completed" and row["veryfi_response"]:
        return row["veryfi_response"], False
    store.update(document.sha256, status="processing", error=None)
    found = client.find(document.sha256)
    if found is not None:
        return found, False
    return client.submit(document.file_name, document.sha256, file_field()), True


def extraction_fields(response: Mapping[str, Any]) -> dict[str, Any]:
    """The columns Orbit keeps from Veryfi's response (the whole response is kept as well)."""
    vendor = response.get("vendor") or {}
    date = response.get("date")
    return {
        "veryfi_id": None if response.get("id") is None else str(response["id"]),
        "vendor_name": vendor.get("name") if isinstance(vendor, dict) else None,
        "total": response.get("total"),
        "currency": response.get("currency_code"),
        # Veryfi writes "2026-11-02 00:00:00"; dateutil also takes the other forms it may send.
        "document_date": dateparser.parse(date).date() if date else None,
        "line_items": response.get("line_items") or [],
    }


def save(
    store: DocumentStore, document: UploadedDocument, response: Mapping[str, Any], run_id: str
) -> dict[str, Any]:
    """Store the extraction on the document's row, now `completed`."""
    return store.update(
        document.sha256,
        **extraction_fields(response),
        veryfi_response=dict(response),
        status="completed",
        error=None,
        run_id=run_id,
    )


def summarise(
    store: DocumentStore,
    row: Mapping[str, Any],
    *,
    run_id: str,
    pipeline_name: str,
    started_at: dt.datetime,
    durations_ms: Mapping[str, int],
) -> dict[str, Any]:
    """The run's summary, also written as its one `pipeline_runs` row."""
    store.record_run(
        run_id,
        pipeline_name,
        status="success",
        started_at=started_at,
        stages=[
            {"step": step, "status": "success", "durationMs": ms}
            for step, ms in durations_ms.items()
        ],
    )
    return {
        "sha256": row["sha256"],
        "size_bytes": row["size_bytes"],
        "vendor": row["vendor_name"],
        "total": row["total"],
        "currency": row["currency"],
        "s3_key": row["s3_key"],
        "veryfi_id": row["veryfi_id"],
        "durations_ms": dict(durations_ms),
    }
