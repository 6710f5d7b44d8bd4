"""The `file` template reads only regular files under the allowed folders, within a size cap:
never /proc, devices or FIFOs, never through a symlink out, never quoting what it read.
"""

import os
import threading
import time
from pathlib import Path

import pytest

from orbit_dagster.sources import SourceError, fetch_payload

SECRET = "file-roots-secret-value-42"


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    """The one allowed folder (besides the data folder and the samples) of these tests."""
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    monkeypatch.setenv("ORBIT_FILE_ROOTS", str(allowed))
    monkeypatch.setenv("ORBIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FILE_ROOTS_TOKEN", SECRET)  # in /proc/self/environ from here on
    return allowed


def refused(path: Path | str, **config: str) -> str:
    with pytest.raises(SourceError) as caught:
        fetch_payload("file", {"path": str(path), **config})
    message = str(caught.value)
    assert SECRET not in message and "\n" not in message
    return message


@pytest.mark.parametrize("path", ["/proc/self/environ", "/dev/zero", "/etc/hostname"])
def test_paths_outside_the_allowed_folders_are_refused(root, path):
    message = refused(path)
    assert f"{path} is outside the folders files may be read from" in message
    assert str(root) in message and "ORBIT_FILE_ROOTS" in message


@pytest.mark.parametrize("target", ["/proc/self/environ", "/dev/zero"])
def test_a_symlink_out_of_an_allowed_folder_is_refused(root, target):
    link = root / "innocent.json"
    link.symlink_to(target)
    assert "is outside the folders" in refused(link)


def test_a_fifo_is_refused_without_hanging(root):
    fifo = root / "pipe.json"
    os.mkfifo(fifo)
    outcome: list[str] = []

    def read() -> None:
        try:
            fetch_payload("file", {"path": str(fifo)})
        except SourceError as error:
            outcome.append(str(error))

    started = time.monotonic()
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=5)
    if reader.is_alive():  # the route reopened: free the reader before failing
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert time.monotonic() - started < 1
    assert outcome == [f"file source: {fifo} is not a regular file"]


def test_a_directory_is_not_a_regular_file(root):
    assert refused(root) == f"file source: {root} is not a regular file"


def test_a_file_over_the_size_cap_is_refused(root):
    big = root / "big.json"
    big.write_text("[" + "1," * 600_000 + "1]")
    assert refused(big, max_bytes="1000000") == (
        f"file source: {big} is larger than the 1,000,000-byte limit (config max_bytes)"
    )
    assert len(fetch_payload("file", {"path": str(big), "max_bytes": "2000000"})) == 600_001


def test_errors_never_quote_the_contents(root):
    broken = root / "broken.json"
    broken.write_text(f'{{"token": "{SECRET}", oops')
    assert refused(broken) == (
        f"file source: {broken} is not valid JSON (Expecting property name enclosed in double "
        "quotes at line 1, column 41)"
    )
    binary = root / "binary.json"
    binary.write_bytes(SECRET.encode() + b"\xff")
    assert refused(binary) == f"file source: {binary} is not UTF-8 text (byte 26)"


def test_files_in_the_data_folder_and_allowed_folders_are_read(root, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "series.json").write_text("[1]")
    (root / "nested").mkdir()
    (root / "nested" / "rows.csv").write_text("date,n\n2026-10-01,1\n")
    assert fetch_payload("file", {"path": str(data / "series.json")}) == [1]
    assert fetch_payload("file", {"path": str(root / "nested" / "rows.csv")}) == [
        {"date": "2026-10-01", "n": "1"}
    ]
