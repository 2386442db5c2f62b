"""The notice-channel contract.

A *channel* delivers one rendered message to one recipient: an SMS gateway, a
chat bridge, the console.  It declares its limits as class attributes (like
apprise plug-ins; ``max_length`` is enforced by :meth:`Channel.check_length`) and implements :meth:`Channel.send`, which returns a typed
:class:`SendResult` or raises :class:`~watcher.errors.ChannelRetryable` /
:class:`~watcher.errors.ChannelPermanent` — never a bare bool, so the
dispatcher can tell "try again later" from "this will never work".

Register a channel class under the ``parcelwatch.notifiers`` entry-point group;
the built-ins do the same.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from watcher.clock import Clock, SystemClock
from watcher.errors import ChannelError, ChannelPermanent, ChannelRetryable, ConfigError
from watcher.settings import describe_validation_error

__all__ = [
    "Recipient",
    "Message",
    "SendState",
    "SendResult",
    "ChannelSettings",
    "Channel",
    "ChannelError",
    "ChannelRetryable",
    "ChannelPermanent",
]


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who a notice is for.  ``phone`` is E.164; ``chat_id`` is the shop's chat handle for the buyer."""

    phone: str | None = None
    chat_id: str | None = None
    name: str | None = None
    language: str = "zh-CN"


@dataclass(frozen=True, slots=True)
class Message:
    """A rendered notice: ``body`` is final text (SMS signature included where one is needed)."""

    body: str
    kind: str  # dispatch, arrived_city, delay, unreachable, follow_up …
    idempotency_key: str  # unique per notice; channels that support it pass it on
    template: str | None = None  # provider template id (WhatsApp Content SID …) when free text is not allowed
    variables: Mapping[str, str] | None = None


class SendState(str, enum.Enum):
    SENT = "sent"  # accepted by the provider; delivery may still be reported later
    DELIVERED = "delivered"  # the provider confirmed delivery synchronously (chat bridges, console)
    OFFLINE = "offline"  # chat only: the buyer is not reachable there now — try the next channel


@dataclass(frozen=True, slots=True)
class SendResult:
    state: SendState
    provider_id: str | None = None  # the provider's message id (Twilio SID …), for callbacks and reconciling
    segments: int = 1
    detail: str = ""


class ChannelSettings(BaseModel):
    """Base of a channel's settings: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Channel(ABC):
    """Base class of notice channels."""

    name: ClassVar[str]
    #: "sms" or "chat": the preference order in ``notices.channels`` names kinds
    kind: ClassVar[str] = "sms"
    #: the provider's throughput in messages per second (``None``: unlimited).  Informational
    #: today: Twilio queues messages on its side, so the dispatcher does not space sends.
    rate_limit: ClassVar[float | None] = None
    #: longest body in characters this channel accepts (``None``: no limit)
    max_length: ClassVar[int | None] = None
    Settings: ClassVar[type[ChannelSettings]] = ChannelSettings
    #: the config section settings errors are named after (default: the channel's name)
    section: ClassVar[str | None] = None

    def __init__(
        self,
        settings: ChannelSettings | Mapping[str, Any] | None = None,
        *,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        if settings is None or isinstance(settings, Mapping):
            try:
                settings = self.Settings(**dict(settings or {}))
            except ValidationError as exc:
                raise ConfigError(describe_validation_error(exc, self.section or self.name)) from None
        self.settings = settings
        self.transport = transport
        self.clock: Clock = clock or SystemClock()

    @classmethod
    def options_from(cls, settings: Any) -> Mapping[str, Any] | None:
        """This channel's settings from the application's :class:`watcher.settings.Settings`;
        ``None`` when it is not configured there (its notices then wait in the outbox)."""
        return {}

    def address(self, recipient: Recipient) -> str | None:
        """The recipient's address on this channel (opt-outs are kept per channel and address)."""
        return recipient.phone if self.kind == "sms" else recipient.chat_id

    def can_reach(self, recipient: Recipient) -> bool:
        """Whether this channel has an address for ``recipient`` at all."""
        return bool(self.address(recipient))

    def check_length(self, message: Message) -> None:
        if self.max_length is not None and len(message.body) > self.max_length:
            raise ChannelPermanent(
                f"{self.name}: message of {len(message.body)} characters exceeds {self.max_length}",
                channel=self.name, code="too_long",
            )

    @abstractmethod
    async def send(self, recipient: Recipient, message: Message) -> SendResult:
        """Deliver ``message``; raise ChannelRetryable or ChannelPermanent on failure."""

    async def aclose(self) -> None:
        """Release network resources."""

    def __repr__(self) -> str:
        from watcher.redact import redact_secrets

        return f"<{type(self).__name__} name={self.name!r} settings={redact_secrets(self.settings.model_dump(mode='json'))}>"
