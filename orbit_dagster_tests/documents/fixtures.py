"""Real servers for document tests: moto's S3 server behind a counting proxy, local Veryfi.

moto runs as its own process (`python -m moto.server`), reached over HTTP like any S3
endpoint. In front of it sits a small forwarding proxy on 127.0.0.1 that records every
request's method and path, so a test can count PUTs at the network level (moto's own API
has no request log). Fixtures here are imported by the documents conftest files and by the
CLI test.
"""

import http.client
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from orbit_dagster_tests.documents import veryfi_server as vs
from orbit_dagster_tests.servers import QuietHandler, free_port, local_server

AWS_ACCESS_KEY_ID = "AKIATESTORBIT0000001"
AWS_SECRET_ACCESS_KEY = "test-aws-secret-key-3c2d1e0f"
AWS_REGION = "us-east-1"
SECRETS = (AWS_SECRET_ACCESS_KEY, vs.API_KEY, vs.CLIENT_SECRET)

# Smallest byte strings each type's magic-number check accepts, padded to look like files.
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 32


@dataclass
class S3Server:
    url: str
    requests: list[tuple[str, str]] = field(default_factory=list)
    # While set, object PUTs wait here (a test kills the uploader meanwhile) until it is set.
    hold: threading.Event | None = None

    def count(self, method: str, key_part: str = "") -> int:
        return sum(1 for m, path in self.requests if m == method and key_part in path)


def _proxy(target_port: int, server: S3Server) -> type[QuietHandler]:
    """A forwarding proxy to moto that appends (method, path) of every request to the log."""

    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            server.requests.append((self.command, self.path))
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if server.hold is not None and self.command == "PUT" and self.path.count("/") > 1:
                server.hold.wait(timeout=120)
            upstream = http.client.HTTPConnection("127.0.0.1", target_port, timeout=30)
            upstream.request(self.command, self.path, body=body, headers=dict(self.headers))
            response = upstream.getresponse()
            payload = response.read()
            self.send_response(response.status, response.reason)
            for name, value in response.getheaders():
                if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
            upstream.close()

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _forward  # noqa: N815

    return Handler


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's standalone S3 server in its own process, behind the counting proxy."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("moto server did not start")
                time.sleep(0.05)
        server = S3Server(url="")
        with local_server(_proxy(port, server)) as url:
            server.url = url
            yield server
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass
class DocumentServers:
    s3: S3Server
    veryfi: vs.VeryfiServer
    bucket: str
    client: Any  # a boto3 S3 client pointed at the proxy

    def puts(self) -> int:
        """PUT requests that uploaded an object (not the bucket creation)."""
        return sum(
            1 for m, path in self.s3.requests if m == "PUT" and path.startswith(f"/{self.bucket}/")
        )

    def object_keys(self) -> list[str]:
        listing = self.client.list_objects_v2(Bucket=self.bucket)
        return [item["Key"] for item in listing.get("Contents", [])]


@pytest.fixture
def document_servers(s3_server, monkeypatch) -> Iterator[DocumentServers]:
    """A fresh bucket and a fresh Veryfi server, with the environment pointing at both."""
    bucket = f"orbit-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_server.url,
        region_name=AWS_REGION,
        aws_access_key_id=AWS_ACCESS_KEY_ID,
        aws_secret_access_key=AWS_SECRET_ACCESS_KEY,
    )
    client.create_bucket(Bucket=bucket)
    with vs.veryfi_server(client_secret=vs.CLIENT_SECRET) as veryfi:
        env = {
            "AWS_S3_BUCKET": bucket,
            "AWS_REGION": AWS_REGION,
            "AWS_ACCESS_KEY_ID": AWS_ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": AWS_SECRET_ACCESS_KEY,
            "AWS_ENDPOINT_URL": s3_server.url,
            "VERYFI_CLIENT_ID": vs.CLIENT_ID,
            "VERYFI_USERNAME": vs.USERNAME,
            "VERYFI_API_KEY": vs.API_KEY,
            "VERYFI_CLIENT_SECRET": vs.CLIENT_SECRET,
            "VERYFI_API_BASE_URL": veryfi.base_url,
            "VERYFI_TIMEOUT": "5000",
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        s3_server.requests.clear()
        s3_server.hold = None
        yield DocumentServers(s3=s3_server, veryfi=veryfi, bucket=bucket, client=client)


def sample_file(folder: Path, name: str = "receipt.pdf", head: bytes = PDF) -> Path:
    """A small file of the given type with unique content (so a unique SHA-256)."""
    path = folder / name
    path.write_bytes(head + uuid.uuid4().bytes)
    return path
