"""The chat-bridge channel (``chat``), registered under ``parcelwatch.notifiers``.

The shop runs its own chat bridge (a Qianniu, WeCom or Douyin integration) that can
message a buyer in the marketplace chat.  We POST one JSON object per notice::

    {"chat_id": …, "text": …, "kind": …, "idempotency_key": …, "language": …}

signed as described in :mod:`notifiers.chat_webhook.signing` and carrying an
``Idempotency-Key`` header (the notice's key).  Replies and failures are mapped in
:mod:`notifiers.chat_webhook.client`: ``offline`` means the buyer cannot be reached in
chat right now and the dispatcher tries the next channel (SMS).

Settings (the ``[chat]`` table)::

    url = "https://bridge.shop.example/parcelwatch"  required when sending (ConfigError naming chat.url)
    secret = "…"                                     shared HMAC secret, required (chat.secret)
    timeout_seconds = 10
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import structlog
from pydantic import Field, SecretStr, field_validator

from notifiers.base import Channel, ChannelSettings, Message, Recipient, SendResult, SendState
from notifiers.chat_webhook.client import ChatBridgeClient, ChatRetryable
from watcher.errors import ChannelPermanent, ConfigError
from watcher.redact import mask_name

__all__ = ["ChatWebhook", "ChatWebhookSettings", "ChatRetryable"]

_log = structlog.get_logger("parcelwatch.notifiers.chat_webhook")
SECTION = "chat"


class ChatWebhookSettings(ChannelSettings):
    url: str = ""
    secret: SecretStr = SecretStr("")
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.lower().startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value


class ChatWebhook(Channel):
    """Buyer notices through the shop's own chat bridge (signed JSON over HTTP)."""

    name = "chat"
    kind = "chat"
    Settings = ChatWebhookSettings
    settings: ChatWebhookSettings

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._client: ChatBridgeClient | None = None

    @classmethod
    def options_from(cls, settings: Any) -> dict[str, Any] | None:
        chat = settings.chat
        return {**chat.model_dump(), "secret": chat.secret.get_secret_value()} if chat.url else None

    def request_payload(self, recipient: Recipient, message: Message) -> dict[str, Any]:
        """The JSON object posted for one notice (pure)."""
        return {
            "chat_id": recipient.chat_id,
            "text": message.body,
            "kind": message.kind,
            "idempotency_key": message.idempotency_key,
            "language": recipient.language,
        }

    @staticmethod
    def encode(payload: dict[str, Any]) -> bytes:
        """The exact bytes sent (and signed): compact UTF-8 JSON, Chinese unescaped."""
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def _bridge(self) -> ChatBridgeClient:
        s = self.settings
        if not s.url:
            raise ConfigError(f"{SECTION}.url: required to send chat notices")
        if not s.secret.get_secret_value():
            raise ConfigError(f"{SECTION}.secret: required to send chat notices")
        if self._client is None:
            transport = self.transport
            if transport is not None and not isinstance(transport, httpx.AsyncBaseTransport):
                raise TypeError("ChatWebhook needs an async transport (httpx.AsyncBaseTransport)")
            self._client = ChatBridgeClient(
                s.url, s.secret.get_secret_value().encode("utf-8"),
                timeout=s.timeout_seconds, transport=transport, channel=self.name,
            )
        return self._client

    async def send(self, recipient: Recipient, message: Message) -> SendResult:
        if not recipient.chat_id:
            raise ChannelPermanent(f"{self.name}: recipient has no chat id", channel=self.name, code="no_chat_id")
        self.check_length(message)
        bridge = self._bridge()
        log = _log.bind(channel=self.name, chat=mask_name(recipient.chat_id), kind=message.kind)
        body = self.encode(self.request_payload(recipient, message))
        try:
            result = await bridge.post(body, now=self.clock.now(), idempotency_key=message.idempotency_key)
        except ChatRetryable as exc:
            log.info("notice.send_failed", error=str(exc), code=exc.code,
                     retry_after=exc.retry_after, ambiguous=exc.ambiguous)
            raise
        except Exception as exc:
            log.info("notice.send_failed", error=str(exc), code=getattr(exc, "code", None))
            raise
        if result.state is SendState.OFFLINE:
            log.info("notice.offline")
        else:
            log.info("notice.sent", provider_id=result.provider_id)
        return result

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
