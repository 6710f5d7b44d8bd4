"""File checks, content types and S3 keys, including hostile file names."""

import datetime as dt
import hashlib

import pytest

from orbit_dagster.documents.checks import (
    DocumentInputError,
    inspect_file,
    s3_key,
    safe_file_name,
)
from orbit_dagster_tests.documents.fixtures import HEIC, JPEG, PDF, PNG

SHA = "a" * 64
WHEN = dt.datetime(2026, 11, 25)


@pytest.mark.parametrize(
    ("name", "head", "content_type"),
    [
        ("r.pdf", PDF, "application/pdf"),
        ("r.png", PNG, "image/png"),
        ("r.jpeg", JPEG, "image/jpeg"),
        ("r.JPG", JPEG, "image/jpeg"),
        ("r.heic", HEIC, "image/heic"),
        ("r.tiff", b"II*\x00" + b"\x00" * 32, "image/tiff"),
        ("r.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 32, "image/webp"),
        ("no-extension", PDF, "application/pdf"),
    ],
)
def test_accepted_types_are_detected_from_the_bytes(tmp_path, name, head, content_type):
    path = tmp_path / name
    path.write_bytes(head)
    document = inspect_file(path)
    assert document.content_type == content_type
    assert document.size == len(head)
    assert document.sha256 == hashlib.sha256(head).hexdigest()


@pytest.mark.parametrize(
    ("name", "content", "limit", "reason"),
    [
        ("gone.pdf", None, 100, "no such file"),
        ("empty.pdf", b"", 100, "the file is empty"),
        ("big.pdf", PDF + b"0" * 100, 100, "over the size limit of 100 bytes"),
        ("text.pdf", b"hello, not a pdf", 100, "unsupported file type (not recognised)"),
        ("zip.pdf", b"PK\x03\x04" + b"\x00" * 30, 100, "unsupported file type (application/zip)"),
        ("photo.png", JPEG, 100, "the name says image/png but the content is image/jpeg"),
    ],
)
def test_bad_files_are_refused_naming_the_file_and_reason(tmp_path, name, content, limit, reason):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DocumentInputError) as caught:
        inspect_file(path, max_bytes=limit)
    assert str(path) in str(caught.value) and reason in str(caught.value)


def test_a_folder_is_not_a_document(tmp_path):
    with pytest.raises(DocumentInputError, match="not a regular file"):
        inspect_file(tmp_path)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("receipt.pdf", "receipt.pdf"),
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("/absolute/path/r.pdf", "r.pdf"),
        ("C:\\Users\\me\\r.pdf", "r.pdf"),
        ("..", "document.pdf"),
        ("...", "document.pdf"),
        ("bad\x00na\x1fme\r\n.pdf", "bad_na_me__.pdf"),
        ("what?<>|*.pdf", "what_____.pdf"),
        ("", "document.pdf"),
    ],
)
def test_hostile_file_names_are_cleaned(name, expected):
    assert safe_file_name(name, "application/pdf") == expected


def test_long_names_keep_their_extension_and_fit_the_limit():
    name = safe_file_name("é" * 400 + ".pdf", "application/pdf")
    assert name.endswith(".pdf") and len(name.encode()) <= 200


def test_s3_key_layout():
    key = s3_key(SHA, "../x/Nov receipt.pdf", "application/pdf", WHEN)
    assert key == f"documents/2026/11/{SHA}/Nov receipt.pdf"
    assert ".." not in key and not key.startswith("/")
