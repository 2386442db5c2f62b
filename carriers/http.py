"""Shared HTTP edge for adapters: one place that turns httpx trouble into our errors."""

from __future__ import annotations

import email.utils
import ssl
from collections.abc import Mapping
from datetime import datetime, timezone
from urllib.parse import urlencode

import httpx

from carriers.netbackend import async_transport
from watcher.errors import ProviderAuthError, ProviderRejected, ProviderTransient

__all__ = ["DEFAULT_TIMEOUT", "make_client", "send", "check_status", "FormPoster", "retry_after_seconds"]

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def make_client(
    base_url: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    max_connections: int = 16,
    ssl_context: ssl.SSLContext | None = None,
) -> httpx.AsyncClient:
    """An AsyncClient with timeouts always set and a bounded pool.

    Without an explicit ``transport`` (tests pass ``httpx.MockTransport``) the pool
    runs on :class:`carriers.netbackend.AsyncioBackend`.
    """
    if transport is None:
        transport = async_transport(max_connections=max_connections, ssl_context=ssl_context)
    return httpx.AsyncClient(
        base_url=base_url,
        transport=transport,
        timeout=timeout,
        headers={"User-Agent": "parcelwatch"},
    )


def retry_after_seconds(value: str | None) -> float | None:
    """Parse a Retry-After header (seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


async def send(client: httpx.AsyncClient, request: httpx.Request, *, provider: str) -> httpx.Response:
    """Send ``request``; raise ``ProviderTransient``/``ProviderAuthError``/``ProviderRejected``
    for transport failures and HTTP error statuses.  2xx responses are returned as-is."""
    try:
        response = await client.send(request)
    except httpx.TransportError as exc:
        raise _transport_error(exc, provider) from exc
    return check_status(response, provider=provider)


def _transport_error(exc: httpx.TransportError, provider: str) -> ProviderTransient:
    if isinstance(exc, httpx.TimeoutException):
        return ProviderTransient(f"{provider}: timed out ({type(exc).__name__})", provider=provider)
    return ProviderTransient(f"{provider}: connection failed ({type(exc).__name__})", provider=provider)


class FormPoster:
    """POSTs url-encoded forms to one endpoint of a provider API, as fast as the poll path needs.

    A tracking API call needs none of what :meth:`httpx.AsyncClient.send` does per request
    (merging the URL with ``base_url``, the cookie jar, auth and redirect handling), and in
    ``bench/poll.py`` that work was a third of the HTTP cost of a poll.  So the request is
    built from a URL parsed once and handed straight to the transport (``httpx.MockTransport``
    in tests), through the public :class:`httpx.AsyncBaseTransport` interface.  Timeouts and
    error mapping are the same as :func:`send`.
    """

    def __init__(self, url: str, *, transport: httpx.AsyncBaseTransport | None = None,
                 timeout: httpx.Timeout = DEFAULT_TIMEOUT, max_connections: int = 16,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.url = httpx.URL(url)
        self._transport = transport or async_transport(max_connections=max_connections, ssl_context=ssl_context)
        self._timeout = timeout.as_dict()
        self._headers = {"User-Agent": "parcelwatch", "Content-Type": "application/x-www-form-urlencoded",
                         "Accept": "*/*"}

    async def post(self, form: Mapping[str, str], *, provider: str) -> bytes:
        """The body of a 2xx reply; ``Provider*`` errors otherwise."""
        request = httpx.Request("POST", self.url, headers=self._headers, content=urlencode(form).encode("ascii"),
                                extensions={"timeout": self._timeout})
        try:
            response = await self._transport.handle_async_request(request)
            try:
                await response.aread()
            finally:
                await response.aclose()
        except httpx.TransportError as exc:
            raise _transport_error(exc, provider) from exc
        return check_status(response, provider=provider).content

    async def aclose(self) -> None:
        await self._transport.aclose()


def check_status(response: httpx.Response, *, provider: str) -> httpx.Response:
    """Raise the ``Provider*`` error an HTTP error status means; return 2xx responses as-is."""
    status = response.status_code
    if status == 429:
        raise ProviderTransient(
            f"{provider}: rate limited (HTTP 429)",
            provider=provider,
            code="429",
            retry_after=retry_after_seconds(response.headers.get("Retry-After")),
        )
    if status >= 500:
        raise ProviderTransient(f"{provider}: server error HTTP {status}", provider=provider, code=str(status))
    if status in (401, 403):
        raise ProviderAuthError(f"{provider}: credentials rejected (HTTP {status})", provider=provider, code=str(status))
    if status >= 400:
        raise ProviderRejected(f"{provider}: request rejected (HTTP {status})", provider=provider, code=str(status))
    return response
