"""What every local fake server shares: a threading HTTP server holding its fake, a
context manager serving it on a free port in a thread, and the process mode that
prints ``PORT <n>`` and serves until SIGTERM/SIGINT."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FakeServer", "FakeHandler", "serve_in_thread", "serve_until_signal"]

POLL = 0.05  # seconds between shutdown checks of serve_forever


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, fake: Any, host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> None:
        self.fake = fake
        super().__init__((host, port), handler)


class FakeHandler(BaseHTTPRequestHandler):
    """What every fake's request handler shares: keep-alive, no Nagle delay, reading the body,
    writing a reply, and silence (requests carry signatures, phones and chat ids)."""

    protocol_version = "HTTP/1.1"  # keep-alive
    timeout = 60  # an idle keep-alive connection is dropped after this many seconds
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle plus the
    # client's delayed ACK add ~40 ms to every keep-alive request.
    disable_nagle_algorithm = True
    server: FakeServer

    def read_body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def reply(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_in_thread(server: FakeServer, name: str, *, on_close: Callable[[], None] | None = None) -> Iterator[str]:
    """Serve on a daemon thread; yields ``http://host:port``; ``on_close`` runs before shutdown."""
    thread = threading.Thread(target=server.serve_forever, args=(POLL,), name=name, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        if on_close is not None:
            on_close()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def serve_until_signal(server: FakeServer, *, on_close: Callable[[], None] | None = None) -> int:
    """Process mode: print ``PORT <n>`` once listening, serve until SIGTERM/SIGINT."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, args=(POLL,), daemon=True)
    thread.start()
    print(f"PORT {server.server_address[1]}", flush=True)
    stop.wait()
    if on_close is not None:
        on_close()
    server.shutdown()
    server.server_close()
    return 0
