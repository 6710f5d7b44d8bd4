"""`process_document_job`: one local file through S3, Veryfi and the store, then a summary."""

import dagster as dg

from orbit_dagster.defs.documents.ops import store_results, summary, upload_to_s3, veryfi_process
from orbit_dagster.documents.jobs import DOCUMENT_JOB


@dg.job(
    name=DOCUMENT_JOB,
    description="Process one document: upload_to_s3 → veryfi_process → store_results → summary. "
    "Run config: ops: {upload_to_s3: {config: {path: /path/to/file.pdf}}}. A file already "
    "processed (same SHA-256) is reported from the store, not uploaded or extracted again.",
)
def process_document_job():
    document = upload_to_s3()
    summary(store_results(document, veryfi_process(document)))
