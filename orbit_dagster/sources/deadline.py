"""A total time limit for each HTTP request: headers, body and redirects included.

httpx's timeouts bound each network operation, not the request: a server that sends one byte
a second, in its headers or its body, never trips a read timeout and can hold a fetch for as
long as it likes. httpx has no whole-request timeout, so a timer enforces one: at the deadline
it shuts down the sockets of the fetch, which ends any blocked read at once.

The sockets come from httpcore's documented `trace` extension (`connection.connect_tcp`),
which hands over each new connection's network stream; shutting a socket down (rather than
closing it) is safe from another thread and leaves the descriptor to its owner.
"""

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class SocketWatchdog:
    """Holds the sockets one fetch opened, and cuts them when a request's time is up."""

    def __init__(self) -> None:
        self._sockets: list[socket.socket] = []
        self._expired = threading.Event()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's `trace` extension: remember each connection this fetch opens."""
        if event == "connection.connect_tcp.complete":
            sock = info["return_value"].get_extra_info("socket")
            if sock is not None:
                self._sockets.append(sock)
                if self._expired.is_set():  # connected just after the deadline
                    _shut(sock)

    @contextmanager
    def deadline(self, seconds: float) -> Iterator[Callable[[], bool]]:
        """Cut this fetch's connections if the block runs past `seconds`; yields a function
        telling whether that happened (a cut read may look like a short body or a reset)."""
        expired = self._expired = threading.Event()

        def cut() -> None:
            expired.set()
            for sock in list(self._sockets):
                _shut(sock)

        timer = threading.Timer(max(seconds, 0), cut)
        timer.daemon = True
        timer.start()
        try:
            yield expired.is_set
        finally:
            timer.cancel()


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by its connection
