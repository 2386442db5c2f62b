"""An asyncio-native network backend for httpcore, used by every adapter's HTTP client.

Why: httpx's default async backend (anyio) rebuilds a socket-attribute mapping,
with a ``getpeername()`` system call, each time httpcore checks whether a pooled
connection is still usable, and does several such checks per request.  Where
system calls are expensive (sandboxes, some VMs) that dominated the poll path in
``bench/poll.py``.  This backend keeps the same contract on plain asyncio
streams: timeouts and OS errors map to httpcore's exceptions (which httpx turns
into its own), TLS goes through ``StreamWriter.start_tls``.

:func:`async_transport` falls back to httpx's stock transport if httpx's
internals ever change shape.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import certifi
import httpcore
import httpx

__all__ = ["AsyncioBackend", "async_transport"]


async def _timed(awaitable: Any, timeout: float | None, on_timeout: type[Exception], on_error: type[Exception]) -> Any:
    try:
        async with asyncio.timeout(timeout):  # no extra task per call, unlike wait_for
            return await awaitable
    except TimeoutError as exc:
        raise on_timeout(str(exc) or "timed out") from exc
    except (OSError, EOFError, ssl.SSLError) as exc:
        raise on_error(str(exc) or type(exc).__name__) from exc


class _Stream(httpcore.AsyncNetworkStream):
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await _timed(self._reader.read(max_bytes), timeout, httpcore.ReadTimeout, httpcore.ReadError)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            self._writer.write(buffer)
        except (OSError, RuntimeError) as exc:
            raise httpcore.WriteError(str(exc)) from exc
        await _timed(self._writer.drain(), timeout, httpcore.WriteTimeout, httpcore.WriteError)

    async def aclose(self) -> None:
        self._writer.close()
        try:
            await self._writer.wait_closed()
        except (OSError, ssl.SSLError, asyncio.CancelledError):
            pass

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        await _timed(
            self._writer.start_tls(ssl_context, server_hostname=server_hostname),
            timeout, httpcore.ConnectTimeout, httpcore.ConnectError,
        )
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # Idle keep-alive connection: asyncio has already read whatever arrived;
            # EOF or a closing transport means the server hung up.
            return self._reader.at_eof() or self._writer.is_closing()
        if info == "ssl_object":
            return self._writer.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._writer.get_extra_info("sockname")
        if info == "server_addr":
            return self._writer.get_extra_info("peername")
        if info == "socket":
            return self._writer.get_extra_info("socket")
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        local = (local_address, 0) if local_address else None
        reader, writer = await _timed(
            asyncio.open_connection(host, port, local_addr=local),
            timeout, httpcore.ConnectTimeout, httpcore.ConnectError,
        )
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for option in socket_options or ():
                sock.setsockopt(*option)
        return _Stream(reader, writer)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        reader, writer = await _timed(
            asyncio.open_unix_connection(path), timeout, httpcore.ConnectTimeout, httpcore.ConnectError
        )
        return _Stream(reader, writer)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def async_transport(
    *, max_connections: int, ssl_context: ssl.SSLContext | None = None
) -> httpx.AsyncBaseTransport:
    """httpx's own transport, with its connection pool on :class:`AsyncioBackend`."""
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    context = ssl_context or ssl.create_default_context(cafile=certifi.where())
    transport = httpx.AsyncHTTPTransport(verify=context, limits=limits)
    if not isinstance(getattr(transport, "_pool", None), httpcore.AsyncConnectionPool):
        return transport  # httpx changed its internals: keep the stock backend
    transport._pool = httpcore.AsyncConnectionPool(  # noqa: SLF001 - documented above
        ssl_context=context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=AsyncioBackend(),
    )
    return transport
