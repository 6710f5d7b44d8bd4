"""`orbit documents`: submit files to the `process_document` job, list and show stored ones.

`submit` runs the Dagster job in this process on the persistent instance (like `orbit
refresh`), so each run shows in the UI; `list` and `show` read the store only and do not
import Dagster.
"""

import json
import sys
from typing import Any

import click

from orbit_dagster import settings
from orbit_dagster.store import Store
from orbit_dagster.store.documents import DocumentNotFoundError

# What `list` and the text output of `submit` show, in this order.
COLUMNS = ("id", "status", "vendor_name", "total", "currency", "file_name", "sha256")


def _documents():
    return Store(settings.database_url()).documents


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True))


def _line(row: dict[str, Any]) -> str:
    return "  ".join("-" if row.get(c) is None else str(row[c]) for c in COLUMNS)


@click.group()
def documents() -> None:
    """Process documents (S3 → Veryfi → store) and inspect the stored results."""


def _submit_one(path: str) -> dict[str, Any]:
    """Run `process_document` for one file; its stored row, marked failed if the run failed."""
    from orbit_dagster.cli import runner
    from orbit_dagster.defs.documents.ops import SHA256_TAG

    result = (
        runner.definitions()
        .resolve_job_def("process_document")
        .execute_in_process(
            instance=runner.instance(),
            run_config={
                "ops": {"upload_to_s3": {"config": {"path": path}}},
                # The terminal shows the outcome; every event stays in the run's log in the UI.
                "loggers": {"console": {"config": {"log_level": "WARNING"}}},
            },
            raise_on_error=False,
        )
    )
    # The first step tags the run with the file's hash once it has read the file.
    run = runner.instance().get_run_by_id(result.run_id)
    sha256 = run.tags.get(SHA256_TAG) if run else None
    row = (_documents().find(sha256) if sha256 else None) or {}
    outcome = {**row, "path": path, "run_id": result.run_id}
    if result.success:
        return outcome
    failures = [e.step_failure_data for e in result.all_events if e.is_step_failure]
    if failures and failures[0].user_failure_data is not None:
        error = failures[0].user_failure_data.description
    else:
        error = runner.root_cause(failures[0].error if failures else None)
    return {**outcome, "status": "failed", "error": error}


@documents.command("submit")
@click.argument("paths", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list, one object per file.")
def submit(paths: tuple[str, ...], as_json: bool) -> None:
    """Process each file through Dagster; a file already processed is reported, not redone."""
    results = [_submit_one(path) for path in paths]
    if as_json:
        _echo_json(results)
    else:
        for row in results:
            if row["status"] == "failed":
                click.echo(f"{row['path']}: failed: {row['error']}", err=True)
            else:
                click.echo(f"{row['path']}: {_line(row)}  s3://{row['s3_bucket']}/{row['s3_key']}")
    if any(row["status"] == "failed" for row in results):
        sys.exit(1)


@documents.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def list_documents(as_json: bool) -> None:
    """Stored documents, newest first."""
    rows = _documents().list_documents()
    if as_json:
        _echo_json(rows)
        return
    for row in rows:
        click.echo(_line(row))


@documents.command("show")
@click.argument("key", metavar="ID_OR_SHA256")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def show(key: str, as_json: bool) -> None:
    """One stored document, with its line items (and Veryfi's raw response in --json)."""
    try:
        row = _documents().get(key)
    except DocumentNotFoundError as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        _echo_json(row)
        return
    for name, value in row.items():
        if name not in ("veryfi_response", "line_items"):
            click.echo(f"{name}: {value}")
    for item in row["line_items"] or []:
        click.echo(f"  {item.get('quantity', '')} x {item.get('description')}  {item.get('total')}")
