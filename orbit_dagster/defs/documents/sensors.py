"""`documents_inbox_sensor`: submits each new file of the inbox folder exactly once.

The cursor remembers every file's name, size and mtime, so a tick only hashes what changed;
the run key is the file's SHA-256, so Dagster never launches two runs for the same content
(a copy under another name, or a file touched again), and a content already completed in
the store (submitted from the CLI, say) is skipped. A file that fails the input checks is
logged once and not retried until it changes.
"""

import json
from pathlib import Path

import dagster as dg

from orbit_dagster.defs.documents.jobs import process_document_job
from orbit_dagster.defs.documents.resources import DocumentSettings
from orbit_dagster.defs.resources import OrbitStore
from orbit_dagster.documents.checks import DocumentInputError, inspect_file
from orbit_dagster.documents.inbox import new_files
from orbit_dagster.documents.jobs import SHA256_TAG, document_run_config


@dg.sensor(
    job=process_document_job,
    minimum_interval_seconds=30,
    description="Watches the inbox folder (ORBIT_DOCUMENTS_INBOX) and runs process_document_job "
    "once per new file content (run key = SHA-256 of the bytes).",
)
def documents_inbox_sensor(
    context: dg.SensorEvaluationContext,
    document_settings: DocumentSettings,
    orbit_store: OrbitStore,
) -> dg.SensorResult | dg.SkipReason:
    if not document_settings.inbox:
        return dg.SkipReason("ORBIT_DOCUMENTS_INBOX is not set")
    folder = Path(document_settings.inbox)
    if not folder.is_dir():
        return dg.SkipReason(f"inbox {folder} is not a folder")
    fresh, seen = new_files(folder, json.loads(context.cursor or "{}"))
    store = orbit_store.get_store().documents
    requests = []
    for path in fresh:
        try:
            document = inspect_file(path, document_settings.max_bytes)
        except DocumentInputError as error:
            context.log.warning(f"skipped: {error}")
            continue
        row = store.find(document.sha256)
        if row is not None and row["status"] == "completed":
            continue
        requests.append(
            dg.RunRequest(
                run_key=document.sha256,
                run_config=document_run_config(document.path),
                tags={SHA256_TAG: document.sha256},
            )
        )
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(seen, sort_keys=True))
