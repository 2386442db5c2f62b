"""Notice channels from settings: ``notices.channels`` names them in preference order.

Channels are discovered through the ``parcelwatch.notifiers`` entry points (the
built-ins ``sms``, ``chat`` and ``console`` too).  ``sms`` is built from
``[twilio]``, ``chat`` from ``[chat]``; a built-in whose settings are empty is
left out (not configured yet), so notices wait in the outbox instead of failing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog

from notifiers.base import Channel
from watcher.clock import Clock
from watcher.errors import ConfigError
from watcher.plugins import load_plugins
from watcher.settings import Settings

__all__ = ["GROUP", "build_channels"]

GROUP = "parcelwatch.notifiers"
log = structlog.get_logger("parcelwatch.dispatch")


def _settings_for(name: str, settings: Settings) -> Mapping[str, Any] | None:
    """The channel's settings, or ``None`` when the built-in is not configured."""
    if name == "sms":
        twilio = settings.twilio
        if not twilio.account_sid:
            return None
        data = twilio.model_dump()
        data.pop("whatsapp_from", None)
        data["auth_token"] = twilio.auth_token.get_secret_value()
        return data
    if name == "whatsapp":
        twilio = settings.twilio
        if not twilio.whatsapp_from:
            return None
        data = twilio.model_dump(exclude={"from_number", "messaging_service_sid"})
        return {**data, "auth_token": twilio.auth_token.get_secret_value(),
                "whatsapp_templates": dict(twilio.whatsapp_templates)}
    if name == "chat":
        if not settings.chat.url:
            return None
        return {**settings.chat.model_dump(), "secret": settings.chat.secret.get_secret_value()}
    return {}


def build_channels(settings: Settings, *, clock: Clock, **extra: Any) -> dict[str, Channel]:
    plugins = load_plugins(GROUP, Channel)
    channels: dict[str, Channel] = {}
    for name in settings.notices.channels:
        if name not in plugins.classes:
            broken = f" (its plug-in failed to load: {plugins.failed[name]})" if name in plugins.failed else ""
            raise ConfigError(
                f"notices.channels: no notice channel named {name!r}{broken}; installed: {', '.join(plugins.names())}"
            )
        options = _settings_for(name, settings)
        if options is None:
            log.info("channel.not_configured", channel=name)
            continue
        channels[name] = plugins.classes[name](options, clock=clock, **extra.get(name, {}))
    return channels
