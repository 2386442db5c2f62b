"""The only module of the Kuaidi100 adapter that does I/O: one POST per number.

Transport failures and HTTP error statuses become ``Provider*`` errors in
:class:`carriers.http.FormPoster`; the form (with ``sign``) is never logged.
"""

from __future__ import annotations

import httpx

from carriers.http import FormPoster
from carriers.kuaidi100.parse import QUERY_PATH
from carriers.kuaidi100.statuses import PROVIDER

__all__ = ["Kuaidi100Client"]


class Kuaidi100Client:
    def __init__(
        self,
        base_url: str,
        *,
        timeout_seconds: float,
        max_connections: int,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        timeout = httpx.Timeout(timeout_seconds, connect=min(5.0, timeout_seconds))
        self._http = FormPoster(base_url.rstrip("/") + QUERY_PATH, transport=transport, timeout=timeout,
                                max_connections=max_connections)

    async def query(self, form: dict[str, str]) -> bytes:
        """POST the signed form to ``/poll/query.do``; the raw body of a 2xx reply."""
        return await self._http.post(form, provider=PROVIDER)

    async def aclose(self) -> None:
        await self._http.aclose()
