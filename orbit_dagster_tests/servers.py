"""A real HTTP server on 127.0.0.1 for tests: serves JSON routes, can hold a response."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class JsonServer:
    """Routes path → (status, body); `hold` makes responses wait until released."""

    routes: dict[str, tuple[int, Any]] = field(default_factory=dict)
    hold: threading.Event | None = None
    requests: list[str] = field(default_factory=list)
    base_url: str = ""


@contextmanager
def json_server() -> Iterator[JsonServer]:
    state = JsonServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            state.requests.append(self.path)
            if state.hold is not None:
                state.hold.wait(timeout=30)
            status, body = state.routes.get(self.path, (404, {"message": "Not Found"}))
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            is_json = not isinstance(body, bytes)
            self.send_header("Content-Type", "application/json" if is_json else "text/html")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        if state.hold is not None:
            state.hold.set()
        server.shutdown()
        server.server_close()
