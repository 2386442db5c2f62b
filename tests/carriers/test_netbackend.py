"""The asyncio network backend under httpx: plain and TLS requests, keep-alive reuse,
servers that hang up, timeouts and refused connections all behave as with httpx's own."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from carriers.http import make_client, send
from carriers.netbackend import AsyncioBackend, async_transport
from watcher.errors import ProviderTransient


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:  # noqa: N802
        body = f"hello {self.path} via {self.server.server_port}".encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        if self.path == "/close":
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.server.connections.add(self.client_address)  # type: ignore[attr-defined]
        if self.path == "/drop":  # hang up without saying so
            self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    """Sets ``closed`` once it has really closed a connection (the hang-up is on the wire)."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.closed = threading.Event()

    def shutdown_request(self, request: object) -> None:
        super().shutdown_request(request)  # type: ignore[arg-type]
        self.closed.set()


@contextmanager
def server(tls: ssl.SSLContext | None = None) -> Iterator[_Server]:
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    srv.connections = set()  # type: ignore[attr-defined]
    if tls is not None:
        srv.socket = tls.wrap_socket(srv.socket, server_side=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_plain_requests_reuse_one_keep_alive_connection() -> None:
    async def go(port: int) -> list[str]:
        async with make_client(f"http://127.0.0.1:{port}") as client:
            return [(await client.get(f"/n{i}")).text for i in range(5)]

    with server() as srv:
        texts = run(go(srv.server_port))
        assert texts[3] == f"hello /n3 via {srv.server_port}"
        assert len(srv.connections) == 1  # type: ignore[attr-defined]


def test_server_hanging_up_between_requests_is_survived() -> None:
    async def go(srv: _Server) -> list[int]:
        async with make_client(f"http://127.0.0.1:{srv.server_port}") as client:
            codes = []
            for path in ("/close", "/a", "/drop", "/b", "/c"):
                codes.append((await client.get(path)).status_code)
                if path in ("/close", "/drop"):
                    # between polls the hang-up has long arrived: wait until it is on the wire,
                    # then the pool must notice the dead connection and open a new one
                    assert await asyncio.to_thread(srv.closed.wait, 5)
                    srv.closed.clear()
            return codes

    with server() as srv:
        assert run(go(srv)) == [200] * 5
        assert len(srv.connections) >= 3  # type: ignore[attr-defined]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a test certificate")
def test_tls_with_a_trusted_self_signed_certificate(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(cert))

    async def go(port: int, ctx: ssl.SSLContext | None) -> str:
        async with make_client(f"https://localhost:{port}", ssl_context=ctx) as client:
            first = (await client.get("/one")).text
            second = (await client.get("/two")).text
            return first + "|" + second

    with server(server_ctx) as srv:
        assert run(go(srv.server_port, client_ctx)) == f"hello /one via {srv.server_port}|hello /two via {srv.server_port}"

        async def untrusted() -> None:  # default trust store does not know our certificate
            async with make_client(f"https://localhost:{srv.server_port}") as client:
                await send(client, client.build_request("GET", "/x"), provider="t")

        with pytest.raises(ProviderTransient, match="connection failed"):
            run(untrusted())


def test_read_timeout_and_refused_connection_become_provider_transient() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()  # accepts, never answers
    port = listener.getsockname()[1]

    async def silent() -> None:
        async with make_client(f"http://127.0.0.1:{port}", timeout=httpx.Timeout(0.2)) as client:
            await send(client, client.build_request("GET", "/"), provider="t")

    try:
        with pytest.raises(ProviderTransient, match="timed out"):
            run(silent())
    finally:
        listener.close()

    async def refused() -> None:
        async with make_client(f"http://127.0.0.1:{port}") as client:
            await send(client, client.build_request("GET", "/"), provider="t")

    with pytest.raises(ProviderTransient, match="connection failed"):
        run(refused())


def test_transport_uses_the_asyncio_backend() -> None:
    transport = async_transport(max_connections=3)
    pool = transport._pool  # type: ignore[attr-defined]
    assert isinstance(pool._network_backend, AsyncioBackend)  # noqa: SLF001
    assert pool._max_connections == 3  # noqa: SLF001
