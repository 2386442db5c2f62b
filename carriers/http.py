"""Shared HTTP edge for adapters: one place that turns httpx trouble into our errors."""

from __future__ import annotations

import email.utils
import ssl
from datetime import datetime, timezone

import httpx

from carriers.netbackend import async_transport
from watcher.errors import ProviderAuthError, ProviderRejected, ProviderTransient

__all__ = ["DEFAULT_TIMEOUT", "make_client", "send", "retry_after_seconds"]

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
    except httpx.TimeoutException as exc:
        raise ProviderTransient(f"{provider}: timed out ({type(exc).__name__})", provider=provider) from exc
    except httpx.TransportError as exc:
        raise ProviderTransient(f"{provider}: connection failed ({type(exc).__name__})", provider=provider) from exc
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
