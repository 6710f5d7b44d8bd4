"""`process_document`: one local file through S3, Veryfi and the store, then a summary."""

import dagster as dg

from orbit_dagster.defs.documents.ops import (
    PIPELINE_NAME,
    store_results,
    summary,
    upload_to_s3,
    veryfi_process,
)


@dg.job(
    name=PIPELINE_NAME,
    description="Process one document: upload_to_s3 → veryfi_process → store_results → summary. "
    "Run config: ops: {upload_to_s3: {config: {path: /path/to/file.pdf}}}. A file already "
    "processed (same SHA-256) is reported from the store, not uploaded or extracted again.",
)
def process_document():
    document = upload_to_s3()
    summary(store_results(document, veryfi_process(document)))
