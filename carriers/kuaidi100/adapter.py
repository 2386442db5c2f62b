"""Kuaidi100 (快递100) real-time query adapter: one number per request."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import ClassVar

from pydantic import Field, SecretStr

from carriers.base import (
    AdapterSettings,
    CarrierAdapter,
    Problem,
    ProblemKind,
    TrackingQuery,
    TrackingResult,
)
from carriers.couriers import couriers as courier_table
from carriers.kuaidi100.client import Kuaidi100Client
from carriers.kuaidi100.parse import NUMBER_MAX_LEN, NUMBER_MIN_LEN, build_form, parse_body
from carriers.kuaidi100.statuses import PROVIDER
from watcher.errors import ConfigError

__all__ = ["Kuaidi100Settings", "Kuaidi100Carrier"]

_SECTION = f"providers.{PROVIDER}"


class Kuaidi100Settings(AdapterSettings):
    """``[providers.kuaidi100]``; ``customer`` and ``key`` are checked when polling starts."""

    customer: str = ""
    key: SecretStr = SecretStr("")
    base_url: str = "https://poll.kuaidi100.com"
    timeout_seconds: float = Field(default=10.0, gt=0)


class Kuaidi100Carrier(CarrierAdapter):
    """Kuaidi100 enterprise real-time query (``/poll/query.do``, ``resultv2=4``).

    ``couriers`` is every code of ``carriers/couriers.toml``: those codes *are*
    Kuaidi100 company codes, so a courier added there is covered here too.
    """

    name: ClassVar[str] = PROVIDER
    title: ClassVar[str] = "Kuaidi100 快递100 (real-time query)"
    couriers: ClassVar[frozenset[str]] = frozenset(courier_table())
    batch_size: ClassVar[int] = 1
    rate_limit: ClassVar[float | None] = 20.0
    max_concurrency: ClassVar[int] = 8
    #: the docs: query one waybill at most about every 30 minutes or it gets locked (锁单)
    min_interval: ClassVar[timedelta] = timedelta(minutes=30)
    Settings: ClassVar[type[AdapterSettings]] = Kuaidi100Settings

    settings: Kuaidi100Settings
    _client: Kuaidi100Client | None = None  # made on first use

    def _credentials(self) -> tuple[str, str]:
        customer = self.settings.customer.strip()
        key = self.settings.key.get_secret_value().strip()
        if not customer:
            raise ConfigError(f"{_SECTION}.customer is required to poll Kuaidi100 (the 授权码 customer id)")
        if not key:
            raise ConfigError(f"{_SECTION}.key is required to poll Kuaidi100 (the authorization key)")
        return customer, key

    def _http(self) -> Kuaidi100Client:
        if self._client is None:
            self._client = Kuaidi100Client(
                self.settings.base_url,
                timeout_seconds=self.settings.timeout_seconds,
                max_connections=self.max_concurrency,
                transport=self.transport,
            )
        return self._client

    async def track(self, queries: Sequence[TrackingQuery]) -> list[TrackingResult]:
        if not queries:
            return []
        customer, key = self._credentials()
        return [await self._track_one(query, customer, key) for query in queries]

    async def _track_one(self, query: TrackingQuery, customer: str, key: str) -> TrackingResult:
        if not self.covers(query.courier):
            message = f"{PROVIDER}: courier {query.courier!r} is not in carriers/couriers.toml"
            return TrackingResult(query, problem=Problem(ProblemKind.UNSUPPORTED_COURIER, message))
        length = len(query.tracking_number.strip())
        if not NUMBER_MIN_LEN <= length <= NUMBER_MAX_LEN:
            message = f"{PROVIDER}: tracking numbers have {NUMBER_MIN_LEN}-{NUMBER_MAX_LEN} characters, got {length}"
            return TrackingResult(query, problem=Problem(ProblemKind.INVALID_NUMBER, message))
        body = await self._http().query(build_form(query, customer=customer, key=key))
        return parse_body(query, body)

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()
