"""`orbit documents` as a user runs it: a subprocess against moto's S3 and the local Veryfi."""

import functools
import json
import re

import pytest

from orbit_dagster.cli.documents import COLUMNS
from orbit_dagster_tests.documents.fixtures import (
    SECRETS,
    document_servers,
    s3_server,
    sample_file,
)

__all__ = ["document_servers", "s3_server"]  # fixtures used by the tests below


@pytest.fixture
def orbit(run_orbit):
    return functools.partial(run_orbit, "documents")


def test_submit_twice_list_and_show(orbit, document_servers, tmp_path):
    path = sample_file(tmp_path, "Nov receipt.pdf")
    submitted = orbit("submit", str(path), "--json")
    assert submitted.returncode == 0, submitted.stderr
    (first,) = json.loads(submitted.stdout)
    assert first["status"] == "completed"
    assert (first["vendor_name"], first["total"], first["currency"]) == (
        "Acme Office Supply",
        42.5,
        "USD",
    )
    assert first["veryfi_id"] and first["s3_key"].endswith("/Nov receipt.pdf")

    again = orbit("submit", str(path), "--json")
    assert again.returncode == 0, again.stderr
    (second,) = json.loads(again.stdout)
    assert second["id"] == first["id"] and second["run_id"] != first["run_id"]
    assert document_servers.puts() == 1 and document_servers.veryfi.posts() == 1

    listed = orbit("list", "--json")
    assert [row["sha256"] for row in json.loads(listed.stdout)] == [first["sha256"]]
    header, row = orbit("list").stdout.splitlines()
    assert header.split() == list(COLUMNS)
    assert row.split()[:3] == [str(first["id"]), "completed", "Acme"]
    assert row.index("42.5") + len("42.5") == header.index("total") + len("total")  # right-aligned
    shown = json.loads(orbit("show", first["sha256"], "--json").stdout)
    assert shown["veryfi_response"]["id"] == int(first["veryfi_id"])
    text = orbit("show", str(first["id"])).stdout.splitlines()
    assert "vendor_name: Acme Office Supply" in text
    # Every field as text: no Python reprs, times in ISO-8601 UTC with Z.
    assert not any(word in line for line in text for word in ("None", "datetime.", "{'"))
    created = next(line for line in text if line.startswith("created_at: "))
    assert re.fullmatch(r"created_at: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", created)
    items = text[text.index("line items:") + 1 :]
    assert items[0].split() == ["quantity", "description", "total"]
    assert any("Stapler" in line for line in items[1:])
    data = tmp_path / "data"
    for file in (p for p in data.rglob("*") if p.is_file()):
        for secret in SECRETS:
            assert secret.encode() not in file.read_bytes(), f"{secret!r} in {file}"


def test_bad_files_fail_clearly_and_send_nothing(orbit, document_servers, tmp_path):
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    result = orbit("submit", str(tmp_path / "missing.pdf"), str(empty))
    assert result.returncode == 1
    assert f"{tmp_path / 'missing.pdf'}: failed: no such file (run " in result.stderr
    assert f"{empty}: failed: the file is empty (run " in result.stderr
    assert "Traceback" not in result.stderr
    assert document_servers.s3.requests == [] and document_servers.veryfi.requests == []
    assert orbit("show", "12345").returncode == 3


def test_missing_credentials_are_named(orbit, tmp_path):
    result = orbit("submit", str(sample_file(tmp_path)), drop=("AWS_", "VERYFI_"))
    assert result.returncode == 1
    assert (
        "AWS_S3_BUCKET, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY are not set"
        in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_an_empty_list_says_how_to_add_a_document(orbit):
    listed = orbit("list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout == "no documents stored yet: `orbit documents submit FILE` processes one\n"
    assert json.loads(orbit("list", "--json").stdout) == []
