"""The document job's shared facts: its name, its run config and the tag that names a run.

Written once here, without Dagster, and read by the wiring (`defs/documents`), the inbox
sensor, the `orbit documents` command and the tests.
"""

from typing import Any

DOCUMENT_JOB = "process_document_job"
# The first op, which takes the file's path.
UPLOAD_OP = "upload_to_s3"
# Set by the first op once it has read the file: the run is found by its document's hash.
SHA256_TAG = "orbit/document_sha256"


def document_run_config(path: str) -> dict[str, Any]:
    """Run config of `process_document_job` for one local file."""
    return {"ops": {UPLOAD_OP: {"config": {"path": path}}}}
