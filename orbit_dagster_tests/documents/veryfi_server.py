"""A local Veryfi API v8 on 127.0.0.1 for tests, strict about what Veryfi documents.

It checks the `CLIENT-ID` and `AUTHORIZATION: apikey USER:KEY` headers, the request
signature when a client secret is configured, and the POST body (`file_name`, exactly one of
`file_data` (base64) or `file_url`, `external_id`); it implements
`GET /documents?external_id=...` and answers with Veryfi's document shape. A test can queue
answers for the next POSTs: a status with a message (and Retry-After), or a slow success.
"""

import base64
import binascii
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from orbit_dagster_tests.servers import QuietHandler, local_server

CLIENT_ID = "vrf-test-client"
USERNAME = "orbit-test"
API_KEY = "test-veryfi-api-key-5e1f"
CLIENT_SECRET = "test-veryfi-client-secret-9b7c"


@dataclass
class Answer:
    """A queued answer to the next POST: an error status, or a success after `delay` s."""

    status: int = 201
    message: str = ""
    retry_after: str | None = None
    delay: float = 0.0


@dataclass
class VeryfiServer:
    base_url: str = ""
    client_secret: str | None = None
    documents: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def posts(self) -> int:
        return sum(1 for method, _ in self.requests if method == "POST")

    def reset(self) -> None:
        with self.lock:
            self.documents.clear()
            self.requests.clear()
            self.bodies.clear()
            self.answers.clear()


def document(doc_id: int, body: dict[str, Any]) -> dict[str, Any]:
    """Veryfi's response shape for a processed receipt (the fields Orbit reads, and more)."""
    return {
        "id": doc_id,
        "external_id": body["external_id"],
        "created_date": "2026-11-25 10:00:00",
        "currency_code": "USD",
        "date": "2026-11-02 13:45:00",
        "document_type": "receipt",
        "vendor": {"name": "Acme Office Supply", "address": "1 Main St"},
        "subtotal": 39.5,
        "tax": 3.0,
        "total": 42.5,
        "line_items": [
            {"id": 1, "description": "Paper A4", "quantity": 2, "price": 9.75, "total": 19.5},
            {"id": 2, "description": "Stapler", "quantity": 1, "price": 20.0, "total": 20.0},
        ],
        "img_file_name": body["file_name"],
    }


def expected_signature(secret: str, payload: dict[str, Any], timestamp: str) -> str:
    message = f"timestamp:{timestamp}" + "".join(f",{k}:{v}" for k, v in payload.items())
    return base64.b64encode(
        hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    ).decode()


@contextmanager
def veryfi_server(client_secret: str | None = None) -> Iterator[VeryfiServer]:
    state = VeryfiServer(client_secret=client_secret)

    class Handler(QuietHandler):
        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        def _fail(self, status: int, message: str, headers: dict[str, str] | None = None):
            self._send(status, {"status": "fail", "error": message}, headers)

        def _authorised(self, payload: dict[str, Any]) -> bool:
            if self.headers.get("CLIENT-ID") != CLIENT_ID:
                self._fail(401, "Invalid CLIENT-ID header")
                return False
            if self.headers.get("AUTHORIZATION") != f"apikey {USERNAME}:{API_KEY}":
                self._fail(401, "Not Authorized: invalid AUTHORIZATION header")
                return False
            if state.client_secret:
                timestamp = self.headers.get("X-Veryfi-Request-Timestamp", "")
                sent = self.headers.get("X-Veryfi-Request-Signature", "")
                fresh = timestamp.isdigit() and abs(time.time() * 1000 - int(timestamp)) < 60_000
                if not fresh or sent != expected_signature(state.client_secret, payload, timestamp):
                    self._fail(401, "Invalid request signature")
                    return False
            return True

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            url = urlsplit(self.path)
            state.requests.append(("GET", url.path))
            query = dict(parse_qsl(url.query))
            if url.path != "/api/v8/partner/documents":
                return self._fail(404, "Not Found")
            if not self._authorised(query):
                return None
            with state.lock:
                found = [
                    d
                    for d in state.documents.values()
                    if "external_id" not in query or d["external_id"] == query["external_id"]
                ]
            return self._send(200, {"documents": found, "meta": {"total_pages": 1, "page": 1}})

        def do_POST(self) -> None:  # noqa: N802
            url = urlsplit(self.path)
            state.requests.append(("POST", url.path))
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if url.path != "/api/v8/partner/documents":
                return self._fail(404, "Not Found")
            if not self.headers.get("Content-Type", "").startswith("application/json"):
                return self._fail(415, "Content-Type must be application/json")
            try:
                body = json.loads(raw)
            except ValueError:
                return self._fail(400, "Malformed JSON body")
            state.bodies.append(body)
            if not self._authorised(body):
                return None
            with state.lock:
                answer = state.answers.pop(0) if state.answers else Answer()
            if answer.status >= 400:
                headers = {"Retry-After": answer.retry_after} if answer.retry_after else None
                return self._fail(answer.status, answer.message or "error", headers)
            problem = _body_problem(body)
            if problem:
                return self._fail(400, problem)
            with state.lock:
                doc_id = 1000 + len(state.documents) + 1
                state.documents[doc_id] = document(doc_id, body)
            # A slow answer still creates the document, as a real submission that the client
            # stopped waiting for would.
            time.sleep(answer.delay)
            return self._send(201, state.documents[doc_id])

    with local_server(Handler) as base_url:
        state.base_url = f"{base_url}/api/v8/partner"
        yield state


def _body_problem(body: dict[str, Any]) -> str | None:
    """Why Veryfi would reject this POST /documents body, or None."""
    if not isinstance(body.get("file_name"), str) or not body["file_name"]:
        return "file_name is required"
    if ("file_data" in body) == ("file_url" in body):
        return "Exactly one of file_data, file_url or file is required"
    if "file_data" in body:
        try:
            base64.b64decode(body["file_data"], validate=True)
        except (binascii.Error, TypeError):
            return "file_data is not valid base64"
    elif not str(body["file_url"]).startswith(("http://", "https://")):
        return "file_url must be an http(s) URL"
    if not body.get("external_id"):
        return "external_id is required"
    return None
