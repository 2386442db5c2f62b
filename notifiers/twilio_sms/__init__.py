"""The Twilio SMS channel (``sms``), registered under ``parcelwatch.notifiers``.

Settings (the ``[twilio]`` table)::

    account_sid, auth_token            required when sending (ConfigError naming twilio.<key>)
    from_number | messaging_service_sid exactly one of them
    base_url = "https://api.twilio.com"  point it at a fake or a proxy
    status_callback_url = ""           sent as StatusCallback when set
    timeout_seconds = 10

Failures follow :mod:`notifiers.twilio_sms.errors`.  Twilio has no idempotency key: a
:class:`~notifiers.twilio_sms.errors.ChannelAmbiguous` (``ambiguous`` is True) means the
message may have been accepted — call :meth:`TwilioSMS.list_recent` before retrying.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, ClassVar

import structlog
from pydantic import Field, SecretStr, model_validator

from notifiers.base import Channel, ChannelSettings, Message, Recipient, SendResult, SendState
from notifiers.twilio_sms.client import TwilioClient, client_for, require_settings, section_options
from notifiers.twilio_sms.errors import ChannelAmbiguous
from watcher.errors import ChannelPermanent, ConfigError
from watcher.redact import mask_phone
from watcher.settings import TwilioSettings

__all__ = ["TwilioSMS", "TwilioSMSSettings", "ChannelAmbiguous"]

_log = structlog.get_logger("parcelwatch.notifiers.twilio_sms")
SECTION = "twilio"


class TwilioSMSSettings(ChannelSettings):
    account_sid: str = ""
    auth_token: SecretStr = SecretStr("")
    from_number: str = ""
    messaging_service_sid: str = ""
    base_url: str = "https://api.twilio.com"
    status_callback_url: str = ""
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    @model_validator(mode="after")
    def _one_sender(self) -> TwilioSMSSettings:
        if self.from_number and self.messaging_service_sid:
            raise ValueError("set exactly one of twilio.from_number and twilio.messaging_service_sid, not both")
        return self


class TwilioSMS(Channel):
    """SMS through Twilio's Messages API (the official SDK, run in a worker thread)."""

    name = "sms"
    kind = "sms"
    #: a US long code sends 1 message *segment* per second (Twilio error 30001 docs); messaging
    #: services and short codes send more: raise it in a subclass or on the class
    rate_limit: ClassVar[float | None] = 1.0
    max_length: ClassVar[int | None] = 1600  # Twilio's Body limit
    Settings = TwilioSMSSettings
    settings: TwilioSMSSettings

    section = SECTION  # settings errors read "twilio.<key>", as in the config file
    _client: TwilioClient | None = None  # made on first send

    @staticmethod
    def twilio_options(twilio: TwilioSettings) -> dict[str, Any]:
        """The ``[twilio]`` keys this channel takes (``whatsapp_*`` are not ours)."""
        return section_options(twilio, exclude={"whatsapp_from"})

    @classmethod
    def options_from(cls, settings: Any) -> dict[str, Any] | None:
        return cls.twilio_options(settings.twilio) if settings.twilio.account_sid else None

    @classmethod
    def from_settings(cls, twilio: TwilioSettings, **extra: Any) -> TwilioSMS:
        """Build from the application's ``[twilio]`` section."""
        return cls({**cls.twilio_options(twilio), **extra})

    # -- sending ---------------------------------------------------------------------------

    def _sdk(self) -> TwilioClient:
        s = self.settings
        require_settings(s, ("account_sid", "auth_token"), purpose="send SMS")
        if not (s.from_number or s.messaging_service_sid):
            raise ConfigError(f"{SECTION}.from_number: set twilio.from_number or twilio.messaging_service_sid")
        if self._client is None:
            self._client = client_for(s, channel=self.name)
        return self._client

    def request_fields(self, recipient: Recipient, message: Message) -> dict[str, Any]:
        """The SDK arguments of ``messages.create`` for one notice (pure)."""
        s = self.settings
        fields: dict[str, Any] = {"to": recipient.phone, "body": message.body}
        if s.messaging_service_sid:
            fields["messaging_service_sid"] = s.messaging_service_sid
        else:
            fields["from_"] = s.from_number
        if s.status_callback_url:
            fields["status_callback"] = s.status_callback_url
        return fields

    async def send(self, recipient: Recipient, message: Message) -> SendResult:
        if not recipient.phone:
            raise ChannelPermanent(f"{self.name}: recipient has no phone number", channel=self.name, code="no_phone")
        self.check_length(message)
        client = self._sdk()
        log = _log.bind(channel=self.name, to=mask_phone(recipient.phone), kind=message.kind)
        try:
            record = await asyncio.to_thread(client.create_message, **self.request_fields(recipient, message))
        except ChannelAmbiguous as exc:
            log.warning("notice.send_ambiguous", error=str(exc))
            raise
        except Exception as exc:
            log.info("notice.send_failed", error=str(exc), code=getattr(exc, "code", None))
            raise
        log.info("notice.sent", provider_id=record["sid"], segments=record["num_segments"])
        return SendResult(SendState.SENT, provider_id=record["sid"], segments=record["num_segments"])

    def list_recent(self, to: str, since: datetime) -> list[dict[str, Any]]:
        """Messages Twilio holds for ``to`` sent at or after ``since`` (newest first), for reconciling
        an ambiguous send before retrying it.  Blocking: call it in a worker thread from async code.

        Each item: sid, to, from, messaging_service_sid, body, status, num_segments, error_code,
        date_created, date_sent (aware datetimes or None).
        """
        return self._sdk().list_messages(to, since)

    async def aclose(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
