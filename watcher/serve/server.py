"""The socket side of ``parcelwatch serve``: a stdlib ``ThreadingHTTPServer`` around :func:`~watcher.serve.app.handle`.

:func:`run_server` binds ``[serve] host``/``port``, logs one ``serve.started`` line
(with the bound port, so ``port = 0`` works), serves until SIGTERM/SIGINT (or until
``stop`` is set), then stops accepting, waits for requests in flight and logs one
``serve.stopped`` summary line.  :func:`serving` runs a server in a thread for tests.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import structlog

from watcher.errors import ParcelwatchError
from watcher.serve.app import MAX_BODY, Request, Response, ServeContext, handle

__all__ = ["ParcelwatchServer", "make_server", "run_server", "serving"]

log = structlog.get_logger("parcelwatch.serve")


class ParcelwatchServer(ThreadingHTTPServer):
    daemon_threads = False  # server_close() waits for requests in flight
    block_on_close = True

    def __init__(self, address: tuple[str, int], ctx: ServeContext) -> None:
        self.ctx = ctx
        self.requests_served = 0
        self._count_lock = threading.Lock()
        super().__init__(address, _Handler)

    def count(self) -> None:
        with self._count_lock:
            self.requests_served += 1


class _Handler(BaseHTTPRequestHandler):
    server: ParcelwatchServer
    # HTTP/1.0 (the default): one request per connection, so no idle keep-alive
    # connection holds up a graceful shutdown
    server_version = "parcelwatch"
    timeout = 10  # seconds a client may take to send its request

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self._send(Response(413 if length > 0 else 400, b'{"error":"bad or too large Content-Length"}'),
                       close=True)
            return
        body = self.rfile.read(length) if length else b""
        request = Request(method=self.command, path=parts.path, query=parts.query,
                          headers=dict(self.headers.items()), body=body)
        try:
            response = handle(self.server.ctx, request)
        except Exception as exc:  # a bug or a database outage: one line, no request data
            log.error("serve.request_failed", path=parts.path, error=type(exc).__name__, exc_info=True)
            response = Response(500, b'{"error":"internal error"}')
        self.server.count()
        self._send(response)

    def _send(self, response: Response, close: bool = False) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_PATCH = _dispatch

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # access lines carry client addresses and query strings; handlers log what matters


def make_server(ctx: ServeContext, host: str | None = None, port: int | None = None) -> ParcelwatchServer:
    serve = ctx.settings.serve
    return ParcelwatchServer((serve.host if host is None else host, serve.port if port is None else port), ctx)


@contextmanager
def serving(ctx: ServeContext, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve in a background thread; yields the base URL (``http://127.0.0.1:<port>``)."""
    server = make_server(ctx, host, port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://{server.server_address[0]}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def run_server(ctx: ServeContext, *, stop: threading.Event | None = None) -> int:
    """Serve until SIGTERM/SIGINT (main thread only) or ``stop``; returns the exit code 0."""
    stop = stop or threading.Event()
    try:
        server = make_server(ctx)
    except OSError as exc:  # port in use, address not available, permission denied
        serve = ctx.settings.serve
        raise ParcelwatchError(f"serve: cannot listen on {serve.host}:{serve.port}: {exc.strerror or exc}") from None
    host, port = server.server_address[:2]
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, lambda signum, _frame: stop.set())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="serve")
    thread.start()
    log.info("serve.started", host=host, port=port, public_url=ctx.settings.serve.public_url or None)
    try:
        while not stop.wait(1.0):  # a timed wait keeps the main thread responsive to signals
            pass
    finally:
        server.shutdown()  # stop accepting
        server.server_close()  # wait for requests in flight
        thread.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("serve.stopped", requests=server.requests_served)
    return 0
