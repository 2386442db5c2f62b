"""The only module of the chat channel that does I/O: one signed POST to the shop's chat bridge.

Reply mapping (:func:`interpret`, pure)::

    200..299 {"status": "delivered", "message_id": m}   SendResult(DELIVERED, provider_id=m)
    200..299 {"status": "offline"}                      SendResult(OFFLINE): try the next channel
    200..299 {"status": "failed", "permanent": true}    ChannelPermanent (code "failed")
    200..299 {"status": "failed", ...}                  ChatRetryable (code "failed")
    200..299 anything else                              ChatRetryable (code "malformed")
    401, 403                                            ConfigError naming chat.secret
    408, 429, 5xx                                       ChatRetryable (``retry_after`` from Retry-After)
    other 4xx, 3xx                                      ChannelPermanent (code = HTTP status)

Transport failures (:meth:`ChatBridgeClient.post`)::

    connect error / connect or pool timeout             ChatRetryable, nothing was sent
    read/write timeout, connection dropped mid-request  ChatRetryable with ``ambiguous`` True

*Ambiguous* means the bridge may already have delivered the message.  Unlike Twilio,
the bridge receives an ``Idempotency-Key`` and answers a repeat with its first answer
without messaging the buyer again, so retrying with the *same* key is safe: every
:class:`ChatRetryable` has ``idempotent`` True and needs no reconciling first.
"""

from __future__ import annotations

import email.utils
import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, ClassVar

import httpx

from carriers.http import make_client
from notifiers.base import SendResult, SendState
from notifiers.chat_webhook.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from watcher.errors import ChannelPermanent, ChannelRetryable, ConfigError
from watcher.redact import mask_text

__all__ = ["ChatRetryable", "ChatBridgeClient", "interpret", "parse_retry_after"]

SECTION = "chat"
_MAX_ERROR = 200  # characters of the bridge's error text kept in exceptions


class ChatRetryable(ChannelRetryable):
    """Try again later with the same Idempotency-Key (always safe: the bridge de-duplicates)."""

    #: a retry with the same key never messages the buyer twice
    idempotent: ClassVar[bool] = True

    def __init__(
        self,
        message: str,
        *,
        channel: str = SECTION,
        code: str | None = None,
        retry_after: float | None = None,
        ambiguous: bool = False,
    ) -> None:
        super().__init__(message, channel=channel, code=code)
        self.retry_after = retry_after  # seconds the bridge asked us to wait, if it said
        self.ambiguous = ambiguous  # the bridge may have delivered the message already


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """A Retry-After header (delay seconds or HTTP date, relative to ``now``) in seconds."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.replace(".", "", 1).isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


def _error_text(value: Any) -> str:
    text = mask_text(str(value)) if value not in (None, "") else ""
    return text[:_MAX_ERROR]


def interpret(
    status: int, headers: Mapping[str, str], body: bytes, *, now: datetime, channel: str = SECTION
) -> SendResult:
    """The result of one bridge reply, or raise the channel error it means (pure)."""
    if status in (401, 403):
        raise ConfigError(
            f"{SECTION}.secret: the chat bridge rejected our signature (HTTP {status}); "
            f"check {SECTION}.secret and that both clocks agree within 5 minutes"
        )
    if status in (408, 429) or status >= 500:
        what = "rate limited" if status == 429 else "server error" if status >= 500 else "request timeout"
        raise ChatRetryable(
            f"{channel}: chat bridge {what} (HTTP {status})", channel=channel, code=str(status),
            retry_after=parse_retry_after(headers.get("Retry-After"), now),
        )
    if not 200 <= status < 300:
        hint = f"; set {SECTION}.url to the final address" if 300 <= status < 400 else ""
        raise ChannelPermanent(f"{channel}: chat bridge refused the notice (HTTP {status}){hint}",
                               channel=channel, code=str(status))
    reply = _loads(body)
    state = reply.get("status") if reply is not None else None
    if state == "delivered":
        message_id = reply.get("message_id")  # type: ignore[union-attr]
        return SendResult(SendState.DELIVERED, provider_id=str(message_id) if message_id not in (None, "") else None)
    if state == "offline":
        return SendResult(SendState.OFFLINE, detail="buyer not reachable in chat")
    if state == "failed":
        error = _error_text(reply.get("error"))  # type: ignore[union-attr]
        text = f"{channel}: chat bridge failed to deliver" + (f": {error}" if error else "")
        if reply.get("permanent") is True:  # type: ignore[union-attr]
            raise ChannelPermanent(text, channel=channel, code="failed")
        raise ChatRetryable(text, channel=channel, code="failed")
    raise ChatRetryable(f"{channel}: chat bridge sent an unexpected reply (HTTP {status})",
                        channel=channel, code="malformed", ambiguous=True)


def _loads(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class ChatBridgeClient:
    """POSTs signed JSON to one bridge URL and converts httpx trouble into the channel errors."""

    def __init__(
        self,
        url: str,
        secret: bytes,
        *,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
        channel: str = SECTION,
    ) -> None:
        self.url = url
        self.channel = channel
        self._secret = secret
        self._http = make_client("", transport=transport, timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)))

    def __repr__(self) -> str:  # never the secret
        return f"<ChatBridgeClient url={self.url!r}>"

    def build_request(self, body: bytes, *, timestamp: int, idempotency_key: str) -> httpx.Request:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
            "Idempotency-Key": idempotency_key,
        }
        return self._http.build_request("POST", self.url, content=body, headers=headers)

    async def post(self, body: bytes, *, now: datetime, idempotency_key: str) -> SendResult:
        """Send ``body`` signed at ``now``; the interpreted reply (see :func:`interpret`)."""
        request = self.build_request(body, timestamp=int(now.timestamp()), idempotency_key=idempotency_key)
        ch = self.channel
        try:
            response = await self._http.send(request)
            raw = await response.aread()
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise ChatRetryable(f"{ch}: cannot connect to the chat bridge ({type(exc).__name__})",
                                channel=ch, code="connect") from None
        except httpx.TimeoutException as exc:  # read/write timeout: the request went out
            raise ChatRetryable(
                f"{ch}: the chat bridge did not answer in time ({type(exc).__name__}); it may have "
                "delivered the message — retrying with the same Idempotency-Key is safe",
                channel=ch, code="timeout", ambiguous=True,
            ) from None
        except httpx.HTTPError as exc:  # connection dropped mid-request, protocol errors
            raise ChatRetryable(
                f"{ch}: connection to the chat bridge failed after sending ({type(exc).__name__})",
                channel=ch, code="transport", ambiguous=True,
            ) from None
        return interpret(response.status_code, response.headers, raw, now=now, channel=ch)

    async def aclose(self) -> None:
        await self._http.aclose()
