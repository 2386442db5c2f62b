"""The WhatsApp channel (``whatsapp``, kind ``chat``) through Twilio's Messages API.

Registered under ``parcelwatch.notifiers``; built from the ``[twilio]`` table when
``twilio.whatsapp_from`` is set.  A buyer's WhatsApp address is their phone number, so
the channel can reach every buyer with a phone (``From=whatsapp:<whatsapp_from>``,
``To=whatsapp:<phone>``).

Settings (keys as in ``[twilio]``)::

    account_sid, auth_token      required when sending (ConfigError naming twilio.<key>)
    whatsapp_from                the WhatsApp-enabled sender, "+1…" (a "whatsapp:" prefix is accepted)
    whatsapp_templates = {}      notice kind → approved Content SID ("HX…"), e.g. { delay = "HX…" }
    base_url, status_callback_url, timeout_seconds   as for SMS

The 24-hour window
------------------
WhatsApp accepts free text (``Body``) only within 24 hours of the buyer's last message
to us; outside that window Twilio answers error 63016 and only approved templates
(``ContentSid`` + ``ContentVariables``) go through.  :meth:`WhatsApp.send`:

1. sends the rendered notice as free text;
2. on 63016, if the notice has a template (``Message.template``, else
   ``whatsapp_templates[kind]``), re-sends it as that template with
   ``ContentVariables`` = ``Message.variables`` or ``{"1": body}``;
3. without a template (or if the template is refused with 63016 too) returns
   ``SendResult(SendState.OFFLINE)``: the buyer is not reachable on WhatsApp right now,
   and the dispatcher falls back to the next channel in ``notices.channels``
   (``sms``).  63016 never surfaces as a failure.

Every other error follows :mod:`notifiers.twilio_sms.errors` (the same client and table
as the SMS channel), except two that are the operator's to fix and are raised as a
:class:`~watcher.errors.ConfigError` naming the key: 63007 (``whatsapp_from`` is not a
WhatsApp sender of the account) and 21655 (a Content SID Twilio does not know).  Twilio has no idempotency key: a
:class:`~notifiers.twilio_sms.errors.ChannelAmbiguous` means the message may have been
accepted — reconcile with :meth:`WhatsApp.list_recent` before retrying.  Reconciling
matches on the body, so it finds free-text sends; a template send is stored by Twilio
with the template's own text and is not matched.

Note: the real API may also accept a free-text send (201) and report 63016 later in the
status callback (``ErrorCode=63016``); that case is the status receiver's to handle.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any, ClassVar

import structlog
from pydantic import Field, SecretStr, field_validator

from notifiers.base import Channel, ChannelSettings, Message, Recipient, SendResult, SendState
from notifiers.twilio_sms.client import TwilioClient, client_for, require_settings, section_options
from notifiers.twilio_sms.errors import ChannelAmbiguous
from watcher.errors import ChannelError, ChannelPermanent, ConfigError
from watcher.redact import mask_phone
from watcher.settings import TwilioSettings

__all__ = ["WhatsApp", "WhatsAppSettings", "ChannelAmbiguous", "OUTSIDE_WINDOW", "PREFIX", "address"]

_log = structlog.get_logger("parcelwatch.notifiers.whatsapp")
SECTION = "twilio"
PREFIX = "whatsapp:"
#: Twilio: free text outside the 24-hour customer-service window (use an approved template)
OUTSIDE_WINDOW = "63016"
NO_SENDER = "63007"  # Twilio could not find a WhatsApp channel for the From address
UNKNOWN_CONTENT = "21655"  # the ContentSid is invalid


def address(phone: str) -> str:
    """``+8613912345678`` → ``whatsapp:+8613912345678`` (an existing prefix is kept once)."""
    phone = phone.strip()
    return phone if phone.lower().startswith(PREFIX) else PREFIX + phone


class WhatsAppSettings(ChannelSettings):
    account_sid: str = ""
    auth_token: SecretStr = SecretStr("")
    whatsapp_from: str = ""
    whatsapp_templates: dict[str, str] = Field(default_factory=dict)
    base_url: str = "https://api.twilio.com"
    status_callback_url: str = ""
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    @field_validator("whatsapp_from")
    @classmethod
    def _strip_prefix(cls, value: str) -> str:
        value = value.strip()
        return value[len(PREFIX):] if value.lower().startswith(PREFIX) else value

    @field_validator("whatsapp_templates")
    @classmethod
    def _content_sids(cls, value: dict[str, str]) -> dict[str, str]:
        for kind, sid in value.items():
            if not sid.startswith("HX"):
                raise ValueError(f"{kind}: an approved template's Content SID starts with HX, got {sid!r}")
        return value


class WhatsApp(Channel):
    """WhatsApp through Twilio: free text inside the 24-hour window, approved templates outside it."""

    name = "whatsapp"
    kind = "chat"
    max_length: ClassVar[int | None] = 1600  # Twilio's Body limit
    Settings = WhatsAppSettings
    settings: WhatsAppSettings

    section = SECTION  # settings errors read "twilio.<key>", as in the config file
    _client: TwilioClient | None = None  # made on first send

    @staticmethod
    def twilio_options(twilio: TwilioSettings) -> dict[str, Any]:
        """The ``[twilio]`` keys this channel takes (the SMS senders are not ours)."""
        data = section_options(twilio, exclude={"from_number", "messaging_service_sid"})
        data["whatsapp_templates"] = dict(twilio.whatsapp_templates)  # excluded from model_dump
        return data

    @classmethod
    def options_from(cls, settings: Any) -> dict[str, Any] | None:
        return cls.twilio_options(settings.twilio) if settings.twilio.whatsapp_from else None

    @classmethod
    def from_settings(cls, twilio: TwilioSettings, **extra: Any) -> WhatsApp:
        """Build from the application's ``[twilio]`` section."""
        return cls({**cls.twilio_options(twilio), **extra})

    def address(self, recipient: Recipient) -> str | None:
        """A buyer's WhatsApp is their phone number (opt-outs are kept under it, prefix-less)."""
        return recipient.phone or None

    def can_reach(self, recipient: Recipient) -> bool:
        return bool(recipient.phone)

    # -- pure request building ----------------------------------------------------------------

    def request_fields(self, recipient: Recipient, message: Message) -> dict[str, Any]:
        """SDK arguments of ``messages.create`` for the free-text send."""
        return {**self._common(recipient), "body": message.body}

    def template_for(self, message: Message) -> str | None:
        """The approved Content SID for ``message``: its own, else the configured one for its kind."""
        return message.template or self.settings.whatsapp_templates.get(message.kind) or None

    def template_fields(self, recipient: Recipient, message: Message, content_sid: str) -> dict[str, Any]:
        """SDK arguments of ``messages.create`` for the template send (no Body: Twilio wants none)."""
        variables = dict(message.variables) if message.variables else {"1": message.body}
        return {
            **self._common(recipient),
            "content_sid": content_sid,
            "content_variables": json.dumps(variables, ensure_ascii=False),
        }

    def _common(self, recipient: Recipient) -> dict[str, Any]:
        s = self.settings
        fields: dict[str, Any] = {"to": address(recipient.phone or ""), "from_": address(s.whatsapp_from)}
        if s.status_callback_url:
            fields["status_callback"] = s.status_callback_url
        return fields

    # -- sending --------------------------------------------------------------------------------

    def _sdk(self) -> TwilioClient:
        s = self.settings
        require_settings(s, ("account_sid", "auth_token", "whatsapp_from"), purpose="send WhatsApp messages")
        if self._client is None:
            self._client = client_for(s, channel=self.name)
        return self._client

    async def send(self, recipient: Recipient, message: Message) -> SendResult:
        if not recipient.phone:
            raise ChannelPermanent(f"{self.name}: recipient has no phone number", channel=self.name, code="no_phone")
        self.check_length(message)
        client = self._sdk()
        log = _log.bind(channel=self.name, to=mask_phone(recipient.phone), kind=message.kind)
        try:
            record = await self._create(client, log, self.request_fields(recipient, message))
            log.info("notice.sent", provider_id=record["sid"], mode="free_text")
            return SendResult(SendState.SENT, provider_id=record["sid"])
        except ChannelPermanent as exc:
            if exc.code != OUTSIDE_WINDOW:
                raise
        content_sid = self.template_for(message)
        if content_sid is None:
            log.info("notice.whatsapp_window_closed", template=None)
            return SendResult(SendState.OFFLINE, detail=f"outside the 24-hour window; no approved template for {message.kind!r}")
        try:
            record = await self._create(client, log, self.template_fields(recipient, message, content_sid))
        except ChannelError as exc:
            if exc.code == UNKNOWN_CONTENT:
                where = "the notice's template" if message.template else f"{SECTION}.whatsapp_templates.{message.kind}"
                raise ConfigError(f"{where}: Twilio does not know Content SID {content_sid} ({exc.code})") from None
            if exc.code != OUTSIDE_WINDOW:
                raise
            log.warning("notice.whatsapp_template_refused", template=content_sid)
            return SendResult(SendState.OFFLINE, detail=f"template {content_sid} refused outside the 24-hour window")
        log.info("notice.sent", provider_id=record["sid"], mode="template", template=content_sid)
        return SendResult(SendState.SENT, provider_id=record["sid"], detail=f"template {content_sid}")

    async def _create(self, client: TwilioClient, log: Any, fields: dict[str, Any]) -> dict[str, Any]:
        try:
            return await asyncio.to_thread(client.create_message, **fields)
        except ChannelAmbiguous as exc:
            log.warning("notice.send_ambiguous", error=str(exc))
            raise
        except ChannelError as exc:
            if exc.code == OUTSIDE_WINDOW:  # not a failure: send() handles the window
                raise
            log.info("notice.send_failed", error=str(exc), code=exc.code)
            if exc.code == NO_SENDER:
                raise ConfigError(f"{SECTION}.whatsapp_from: not a WhatsApp sender of this Twilio account "
                                  f"({exc.code})") from None
            raise
        except Exception as exc:
            log.info("notice.send_failed", error=str(exc), code=getattr(exc, "code", None))
            raise

    def list_recent(self, to: str, since: datetime) -> list[dict[str, Any]]:
        """WhatsApp messages Twilio holds for phone ``to`` since ``since`` (newest first), for
        reconciling an ambiguous send.  Blocking: call it in a worker thread from async code."""
        return self._sdk().list_messages(address(to), since)

    async def aclose(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
