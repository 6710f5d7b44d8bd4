"""Real HTTP servers on 127.0.0.1 for tests: the one way every test server starts and stops
(`local_server`), and a small JSON server that can hold a response (`json_server`).
"""

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class JsonServer:
    """Routes path → (status, body); `hold` makes responses wait until released.

    A route's status may be a list: each request takes the next one (the last one repeats),
    e.g. [500, 200] for a flaky service.
    """

    routes: dict[str, tuple[int | list[int], Any]] = field(default_factory=dict)
    hold: threading.Event | None = None
    # A held response is sent anyway after this long, so a test that fails never hangs.
    hold_seconds: float = 30
    requests: list[str] = field(default_factory=list)
    # Decoded JSON bodies of POST requests, in arrival order.
    posted: list[Any] = field(default_factory=list)
    base_url: str = ""


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that keeps the test output clean (no access log lines)."""

    def log_message(self, *args) -> None:
        pass


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on now, for a server started as a process
    (moto, dagster-webserver) that must be told its port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def local_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve `handler` on a free port of 127.0.0.1 from a thread; yields the base URL.

    A short poll interval keeps each test's teardown quick (`shutdown` waits for the next
    poll, 0.5 s by default); request threads are daemons, so a hung request never blocks exit.
    """
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def json_server() -> Iterator[JsonServer]:
    state = JsonServer()

    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length") or 0)
            state.posted.append(json.loads(self.rfile.read(length) or b"null"))
            self.do_GET()

        def do_GET(self) -> None:  # noqa: N802
            state.requests.append(self.path)
            if state.hold is not None:
                state.hold.wait(timeout=state.hold_seconds)
            status, body = state.routes.get(self.path, (404, {"message": "Not Found"}))
            if isinstance(status, list):
                status = status.pop(0) if len(status) > 1 else status[0]
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            is_json = not isinstance(body, bytes)
            self.send_header("Content-Type", "application/json" if is_json else "text/html")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    with local_server(Handler) as state.base_url:
        try:
            yield state
        finally:
            if state.hold is not None:
                state.hold.set()
