"""The four document steps as thin ops: `upload_to_s3`, `veryfi_process`, `store_results`,
`summary`, each calling one function of `orbit_dagster.documents.pipeline`.

A job of ops rather than assets partitioned per document: a document's identity (its
SHA-256) is only known once its file has been read, which is the first step's work, and a
run of one file reads best in the UI as the four named steps of that run, tagged with the
hash, rather than as a partition list that grows by one per receipt. The store's row (unique
on sha256) is the document's record; the run tag and the sensor's run key find its runs.

Retries are Dagster's (`RetryPolicy`, exponential backoff with jitter). Time limits are per
call, in the clients: `dagster/max_runtime` is a run-level tag enforced by the daemon's run
monitoring, not a per-op limit, so boto3 (60 s connect/read, its defaults), httpx
(`VERYFI_TIMEOUT`) and the store (30 s statement timeout) bound each call instead. Outputs go
through a filesystem IO manager so that re-execution from a failed step can load them.
"""

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from dagster_aws.s3 import S3Resource
from pydantic import Field

from orbit_dagster.defs.documents.resources import (
    DOCUMENT_IO_MANAGER,
    DocumentSettings,
    VeryfiResource,
)
from orbit_dagster.defs.resources import OrbitStore
from orbit_dagster.documents import pipeline
from orbit_dagster.documents.checks import DocumentInputError, inspect_file
from orbit_dagster.documents.jobs import SHA256_TAG, UPLOAD_OP
from orbit_dagster.documents.pipeline import MissingSettingError, UploadedDocument
from orbit_dagster.documents.veryfi import VeryfiRejected, VeryfiUnavailable
from orbit_dagster.liveness import working_on
from orbit_dagster.store import Store

VERYFI_RETRIES = 2


def _retry(max_retries: int) -> dg.RetryPolicy:
    return dg.RetryPolicy(
        max_retries=max_retries,
        delay=1,
        backoff=dg.Backoff.EXPONENTIAL,
        jitter=dg.Jitter.PLUS_MINUS,
    )


class DocumentConfig(dg.Config):
    path: str = Field(description="Local path of the file to process (PDF, JPEG, PNG, ...).")


@contextmanager
def _document_step(
    context: dg.OpExecutionContext, store: Store, sha256: str | None
) -> Iterator[None]:
    """Beat for the run while the step works (a killed run is found dead: see
    `orbit_dagster.liveness`), record a failure on the document's row, and tell Dagster
    whether a retry can help."""
    documents = store.documents
    with working_on(store, context.run_id, context.op.name):
        try:
            yield
        except (DocumentInputError, MissingSettingError, VeryfiRejected) as error:
            if sha256:
                documents.mark_failed(sha256, str(error))
            # Bad input, missing settings and a 4xx fail the same way on every attempt.
            raise dg.Failure(description=str(error), allow_retries=False) from None
        except VeryfiUnavailable as error:
            if sha256:
                documents.mark_failed(sha256, str(error))
            if error.retry_after is not None:
                raise dg.RetryRequested(
                    max_retries=VERYFI_RETRIES, seconds_to_wait=error.retry_after
                ) from error
            raise
        except Exception as error:
            if sha256:
                documents.mark_failed(sha256, f"{type(error).__name__}: {error}")
            raise


@dg.op(
    name=UPLOAD_OP,
    description="Check the file, then put it in S3 unless this SHA-256 is already there.",
    retry_policy=_retry(3),
    out=dg.Out(UploadedDocument, io_manager_key=DOCUMENT_IO_MANAGER),
)
def upload_to_s3(
    context: dg.OpExecutionContext,
    config: DocumentConfig,
    s3: S3Resource,
    document_settings: DocumentSettings,
    orbit_store: OrbitStore,
) -> UploadedDocument:
    store = orbit_store.get_store()
    with _document_step(context, store, None):
        local = inspect_file(config.path, document_settings.max_bytes)
    # The hash names the run in the UI (and lets `orbit documents submit` find its row).
    context.instance.add_run_tags(context.run_id, {SHA256_TAG: local.sha256})
    with _document_step(context, store, local.sha256):
        bucket = document_settings.s3_bucket(s3)
        uploaded = pipeline.upload(store.documents, s3.get_client(), bucket, local, context.run_id)
    context.log.info(
        f"{local.file_name} ({local.sha256[:12]}, {local.size} bytes, {local.content_type}): "
        + ("uploaded to" if uploaded.uploaded else "already in")
        + f" s3://{uploaded.bucket}/{uploaded.key}"
    )
    return uploaded


@dg.op(
    description="Extract it with Veryfi: reuse the document found by external_id, else submit.",
    retry_policy=_retry(VERYFI_RETRIES),
    out=dg.Out(dict, io_manager_key=DOCUMENT_IO_MANAGER),
)
def veryfi_process(
    context: dg.OpExecutionContext,
    veryfi: VeryfiResource,
    s3: S3Resource,
    orbit_store: OrbitStore,
    document: UploadedDocument,
) -> dict:
    store = orbit_store.get_store()
    with _document_step(context, store, document.sha256), veryfi.get_client() as client:
        file_field = pipeline.file_field(
            document, s3.get_client() if veryfi.send_file_url else None
        )
        response, submitted = pipeline.extract(store.documents, client, document, file_field)
    context.log.info(
        f"{document.sha256[:12]}: Veryfi document {response.get('id')} "
        + ("submitted" if submitted else "reused")
    )
    return response


@dg.op(
    description="Save the extraction (vendor, total, currency, date, line items) on its row.",
    retry_policy=_retry(2),
    out=dg.Out(dict, io_manager_key=DOCUMENT_IO_MANAGER),
)
def store_results(
    context: dg.OpExecutionContext,
    orbit_store: OrbitStore,
    document: UploadedDocument,
    response: dict,
) -> dict:
    store = orbit_store.get_store()
    with _document_step(context, store, document.sha256):
        row = pipeline.save(store.documents, document, response, context.run_id)
    context.log.info(f"document {row['id']} completed: {row['vendor_name']} {row['total']}")
    return row


@dg.op(
    description="Summarise the run (step durations, size, vendor, total) as metadata and as "
    "a pipeline_runs row.",
    retry_policy=_retry(2),
    out=dg.Out(dg.Nothing),
)
def summary(context: dg.OpExecutionContext, orbit_store: OrbitStore, row: dict) -> dg.Output:
    stats = context.instance.get_run_step_stats(context.run_id)
    durations = {
        s.step_key: round((s.end_time - s.start_time) * 1000)
        for s in stats
        if s.start_time is not None and s.end_time is not None
    }
    started = min((s.start_time for s in stats if s.start_time is not None), default=time.time())
    result = pipeline.summarise(
        orbit_store.get_store().documents,
        row,
        run_id=context.run_id,
        pipeline_name=context.job_name,
        started_at=dt.datetime.fromtimestamp(started, dt.UTC).replace(tzinfo=None),
        durations_ms=durations,
    )
    context.log.info(f"document {row['sha256'][:12]}: {result}")
    return dg.Output(
        None,
        metadata={
            "sha256": row["sha256"],
            "size_bytes": dg.MetadataValue.int(row["size_bytes"]),
            "vendor": row["vendor_name"] or "",
            "total": row["total"],
            "currency": row["currency"] or "",
            "s3_key": row["s3_key"],
            "veryfi_id": row["veryfi_id"] or "",
            "step_durations_ms": dg.MetadataValue.json(durations),
        },
    )
