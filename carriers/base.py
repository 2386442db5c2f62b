"""The carrier-adapter contract.

A *carrier adapter* knows one outside tracking provider (Kuaidi100, 17TRACK, a
simulator …) and nothing else.  It turns a batch of :class:`TrackingQuery` into
one :class:`TrackingResult` per query:

* a normalized :class:`Tracking` (status from :class:`Status`, checkpoints
  newest first with timezone-aware times), or
* a :class:`Problem` for that number alone (not found yet, invalid number …).

Problems affecting the whole request are exceptions from :mod:`watcher.errors`
(``ProviderTransient``, ``ProviderAuthError``, ``ProviderRejected``); adapters
convert httpx exceptions into them at their edge.

Register an adapter class under the ``parcelwatch.carriers`` entry-point group;
the built-ins do the same.  Run :mod:`carriers.testing` in your tests.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

import httpx
import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from watcher.clock import Clock, SystemClock
from watcher.errors import (
    ConfigError,
    ProviderAuthError,
    ProviderError,
    ProviderRejected,
    ProviderTransient,
)
from watcher.settings import describe_validation_error

__all__ = [
    "Status",
    "TERMINAL_STATUSES",
    "Checkpoint",
    "Tracking",
    "ProblemKind",
    "Problem",
    "TrackingQuery",
    "TrackingResult",
    "AdapterSettings",
    "CarrierAdapter",
    "map_status",
    "ProviderError",
    "ProviderTransient",
    "ProviderAuthError",
    "ProviderRejected",
]

log = structlog.get_logger("parcelwatch.carriers")


class Status(str, enum.Enum):
    """The normalized status vocabulary every adapter maps to."""

    PENDING = "pending"
    INFO_RECEIVED = "info_received"
    COLLECTED = "collected"
    IN_TRANSIT = "in_transit"
    ARRIVED_DESTINATION_CITY = "arrived_destination_city"
    OUT_FOR_DELIVERY = "out_for_delivery"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    DELIVERED = "delivered"
    FAILED_ATTEMPT = "failed_attempt"
    EXCEPTION = "exception"
    RETURNING = "returning"
    RETURNED = "returned"
    UNKNOWN = "unknown"

    def __str__(self) -> str:  # "delivered", not "Status.DELIVERED"
        return self.value


TERMINAL_STATUSES = frozenset({Status.DELIVERED, Status.RETURNED})


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One scan in a parcel's history."""

    time: datetime  # timezone-aware
    text: str
    location: str = ""
    raw_code: str = ""  # the provider's own code for this scan, if it gives one
    status: Status | None = None  # the provider's normalized status for this scan, if known
    #: the provider's own short name for ``raw_code`` (Kuaidi100: "超区", "拒收", "破损" …);
    #: the rules read it when the checkpoint text itself says nothing specific
    label: str = ""

    def __post_init__(self) -> None:
        if self.time.tzinfo is None:
            raise ValueError("Checkpoint.time must be timezone-aware")


@dataclass(frozen=True, slots=True)
class Tracking:
    """What a provider knows about one number, normalized."""

    status: Status
    checkpoints: tuple[Checkpoint, ...]  # newest first
    provider: str
    raw_status: str = ""  # provider's own parcel-level code, kept for detection and debugging


class ProblemKind(str, enum.Enum):
    NOT_FOUND = "not_found"  # provider has no information yet (normal right after shipping)
    INVALID_NUMBER = "invalid_number"  # the number cannot exist for that courier
    UNSUPPORTED_COURIER = "unsupported_courier"
    NEEDS_PHONE = "needs_phone"  # courier requires the recipient's phone (SF, ZTO)
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Problem:
    kind: ProblemKind
    message: str
    raw_code: str = ""


@dataclass(frozen=True, slots=True)
class TrackingQuery:
    """One number to track.  Optional fields help providers that need them."""

    courier: str  # canonical courier code (Kuaidi100 company code), e.g. "zhongtong"
    tracking_number: str
    phone: str | None = None  # recipient phone, E.164; some couriers require it
    shipped_at: datetime | None = None
    province: str = ""
    city: str = ""
    district: str = ""


@dataclass(frozen=True, slots=True)
class TrackingResult:
    query: TrackingQuery
    tracking: Tracking | None = None
    problem: Problem | None = None

    def __post_init__(self) -> None:
        if (self.tracking is None) == (self.problem is None):
            raise ValueError("a TrackingResult holds exactly one of tracking or problem")

    @property
    def ok(self) -> bool:
        return self.tracking is not None


class AdapterSettings(BaseModel):
    """Base for an adapter's ``[providers.<name>]`` table: unknown keys are errors.

    Every provider table accepts ``rate_limit`` (requests per second; ``0`` means
    unlimited) to override the adapter's declared default, e.g. for a contract
    with a higher quota or a local test server.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    rate_limit: float | None = Field(default=None, ge=0)

    def __repr__(self) -> str:  # never print secrets
        from watcher.redact import redact_secrets

        shown = redact_secrets(self.model_dump(mode="json"))
        return f"{type(self).__name__}({shown})"

    __str__ = __repr__


class CarrierAdapter(ABC):
    """Base class of tracking-provider adapters.

    Class attributes declare the adapter's limits; the poller enforces them.
    A subclass implements :meth:`track` (and usually nothing else but its own
    ``Settings`` model).
    """

    name: ClassVar[str]
    title: ClassVar[str] = ""
    #: canonical courier codes this provider can track; empty means "any courier"
    couriers: ClassVar[frozenset[str]] = frozenset()
    #: most numbers in one :meth:`track` call
    batch_size: ClassVar[int] = 1
    #: requests per second across the whole process (``None``: unlimited)
    rate_limit: ClassVar[float | None] = None
    #: requests in flight at once
    max_concurrency: ClassVar[int] = 4
    #: a single number is never asked about more often than this
    min_interval: ClassVar[timedelta] = timedelta(0)
    #: the ``[providers.<name>]`` settings model
    Settings: ClassVar[type[AdapterSettings]] = AdapterSettings

    def __init__(
        self,
        settings: AdapterSettings | Mapping[str, Any] | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        if settings is None or isinstance(settings, Mapping):
            try:
                settings = self.Settings(**dict(settings or {}))
            except ValidationError as exc:
                raise ConfigError(describe_validation_error(exc, f"providers.{self.name}")) from None
        self.settings = settings
        self.transport = transport
        self.clock: Clock = clock or SystemClock()

    @property
    def request_rate(self) -> float | None:
        """Requests per second to allow: the settings' ``rate_limit`` if set, else the class default."""
        override = getattr(self.settings, "rate_limit", None)
        if override is not None:
            return override or None
        return self.rate_limit

    def covers(self, courier: str) -> bool:
        return not self.couriers or courier in self.couriers

    @abstractmethod
    async def track(self, queries: Sequence[TrackingQuery]) -> list[TrackingResult]:
        """Track up to ``batch_size`` numbers; one result per query, same order."""

    async def aclose(self) -> None:
        """Release network resources."""

    async def __aenter__(self) -> CarrierAdapter:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} settings={self.settings!r}>"


_unmapped_seen: set[tuple[str, str]] = set()


def map_status(provider: str, table: Mapping[str, Status], code: object) -> Status:
    """Look ``code`` up in an exact table; unknown codes give ``Status.UNKNOWN``.

    Each unmapped code is logged once per process so adapter authors can add it.
    """
    key = "" if code is None else str(code).strip()
    status = table.get(key)
    if status is not None:
        return status
    if (provider, key) not in _unmapped_seen:
        _unmapped_seen.add((provider, key))
        log.warning("carrier.unmapped_status", provider=provider, code=key)
    return Status.UNKNOWN
