"""`orbit documents`: submit files to the `process_document_job` job, list and show stored ones.

`submit` runs the Dagster job in this process on the persistent instance (like `orbit
refresh`), so each run shows in the UI; `list` and `show` read the store only and do not
import Dagster.
"""

import sys
from typing import Any

import click

from orbit_dagster.cli import location, output
from orbit_dagster.cli.errors import ExitCode
from orbit_dagster.cli.output import echo_json, echo_table, fail, plain, utc_z
from orbit_dagster.store.documents import DocumentNotFoundError

# What `list` and the text output of `submit` show, in this order.
COLUMNS = ("id", "status", "vendor_name", "total", "currency", "file_name", "sha256")


def _cells(row: dict[str, Any]) -> list[Any]:
    return [row.get(column) for column in COLUMNS]


@click.group()
def documents() -> None:
    """Process documents (S3 → Veryfi → store) and inspect the stored results."""


def _submit_one(path: str) -> dict[str, Any]:
    """Run `process_document_job` for one file; its stored row, marked failed if it failed."""
    from orbit_dagster import dagster_api

    outcome = dagster_api.run_document(
        location.definitions(), location.instance(), path, verbose=output.verbose()
    )
    sha256 = dagster_api.document_sha256(outcome)
    row = (output.store().documents.find(sha256) if sha256 else None) or {}
    result = {**row, "path": path, "run_id": outcome.run_id}
    if outcome.success:
        return result
    return {**result, "status": "failed", "error": outcome.error}


@documents.command("submit")
@click.argument("paths", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list, one object per file.")
def submit(paths: tuple[str, ...], as_json: bool) -> None:
    """Process each file through Dagster; a file already processed is reported, not redone."""
    results = [_submit_one(path) for path in paths]
    if as_json:
        echo_json(results)
    else:
        done = [row for row in results if row["status"] != "failed"]
        if done:
            echo_table(
                ("path", *COLUMNS, "s3 object"),
                [
                    (row["path"], *_cells(row), f"s3://{row['s3_bucket']}/{row['s3_key']}")
                    for row in done
                ],
            )
        for row in results:
            if row["status"] == "failed":
                # The reason often starts with the path already: not twice on one line.
                reason = plain(row["error"]).removeprefix(f"{row['path']}: ")
                click.echo(f"{row['path']}: failed: {reason} (run {row['run_id']})", err=True)
    if any(row["status"] == "failed" for row in results):
        sys.exit(ExitCode.FAILED)  # each failed file's one line is printed above


@documents.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def list_documents(as_json: bool) -> None:
    """Stored documents, newest first."""
    rows = output.store().documents.list_documents()
    if as_json:
        echo_json(rows)
        return
    echo_table(
        COLUMNS,
        [_cells(row) for row in rows],
        empty="no documents stored yet: `orbit documents submit FILE` processes one",
    )


@documents.command("show")
@click.argument("key", metavar="ID_OR_SHA256")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def show(key: str, as_json: bool) -> None:
    """One stored document, with its line items (and Veryfi's raw response in --json)."""
    try:
        row = output.store().documents.get(key)
    except DocumentNotFoundError as error:
        fail(str(error))
    if as_json:
        echo_json(row)
        return
    for name, value in row.items():
        if name not in ("veryfi_response", "line_items"):
            click.echo(utc_z(f"{name}: {plain(value)}"))
    if row["line_items"]:
        click.echo("line items:")
        echo_table(
            ("quantity", "description", "total"),
            [
                (item.get("quantity"), item.get("description"), item.get("total"))
                for item in row["line_items"]
            ],
        )
