"""Hostile HTTP servers on 127.0.0.1, written at the socket level so that they can misbehave
the way no well-behaved server library would: drip a byte at a time, stream a body far larger
than any cap, or accept a connection and never answer.

Every server is bounded: it stops accepting after `lifetime` seconds, each connection's
handler stops after at most that long, and leaving the `with` block stops everything.
"""

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

JSON_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"


@dataclass
class Hostile:
    """A running hostile server: its URL and what it managed to send."""

    url: str = ""
    sent: int = 0  # body bytes the kernel accepted, over every connection
    connections: int = 0
    stopped: threading.Event = field(default_factory=threading.Event)

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; False once the server is stopping."""
        return not self.stopped.wait(seconds)


Handler = Callable[[socket.socket, Hostile], None]


@contextmanager
def hostile_server(handler: Handler, *, lifetime: float = 30.0) -> Iterator[Hostile]:
    state = Hostile()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    state.url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    ends = time.monotonic() + lifetime
    # Stops the server by itself, even if the test that started it never leaves its block.
    timer = threading.Timer(lifetime, state.stopped.set)
    timer.daemon = True
    timer.start()

    def handle(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(lifetime)
            try:
                _read_request(conn)
                handler(conn, state)
            except OSError:
                pass  # the client hung up: the point of most of these servers

    def serve() -> None:
        while not state.stopped.is_set() and time.monotonic() < ends:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            state.connections += 1
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stopped.set()
        timer.cancel()
        thread.join(timeout=5)
        listener.close()


def _read_request(conn: socket.socket) -> None:
    """Read the request head (these servers ignore what it asks)."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk


def drip(head: bytes, byte: bytes, interval: float, count: int) -> Handler:
    """`head` at once, then `byte` every `interval` seconds, `count` times."""

    def handler(conn: socket.socket, state: Hostile) -> None:
        conn.sendall(head)
        for _ in range(count):
            if not state.wait(interval):
                return
            conn.sendall(byte)
            state.sent += 1

    return handler


def drip_body(interval: float = 0.25, count: int = 400) -> Handler:
    """Headers at once, then the body one byte every `interval` seconds."""
    return drip(JSON_HEAD + f"Content-Length: {count}\r\n\r\n".encode(), b" ", interval, count)


def drip_headers(interval: float = 0.25, count: int = 400) -> Handler:
    """The status line, then header bytes one every `interval` seconds: never a full head."""
    return drip(b"HTTP/1.1 200 OK\r\nX-Slow: ", b"a", interval, count)


def silent(conn: socket.socket, state: Hostile) -> None:
    """Accepts the request and never answers (until the server stops)."""
    state.stopped.wait()


def oversized(total: int, *, declare: bool = False, chunk: int = 64 * 1024) -> Handler:
    """A JSON-looking body of `total` bytes, ended by closing the connection (or declared in
    Content-Length), counting what the kernel accepted before the client hung up."""

    def handler(conn: socket.socket, state: Hostile) -> None:
        length = f"Content-Length: {total}\r\n" if declare else "Connection: close\r\n"
        conn.sendall(JSON_HEAD + length.encode() + b"\r\n")
        block = b"[" + b"1," * (chunk // 2 - 1) + b"1"
        while state.sent < total and not state.stopped.is_set():
            conn.sendall(block)
            state.sent += len(block)

    return handler
