"""Notice channels from settings: ``notices.channels`` names them in preference order.

Channels are discovered through the ``parcelwatch.notifiers`` entry points (the
built-ins ``sms``, ``whatsapp``, ``chat`` and ``console`` too).  Each channel
takes its settings with :meth:`notifiers.base.Channel.options_from` (``sms`` and
``whatsapp`` from ``[twilio]``, ``chat`` from ``[chat]``); one that is not
configured is left out, so notices wait in the outbox instead of failing.
"""

from __future__ import annotations

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


def build_channels(settings: Settings, *, clock: Clock, **extra: Any) -> dict[str, Channel]:
    plugins = load_plugins(GROUP, Channel)
    channels: dict[str, Channel] = {}
    for name in settings.notices.channels:
        if name not in plugins.classes:
            broken = f" (its plug-in failed to load: {plugins.failed[name]})" if name in plugins.failed else ""
            raise ConfigError(
                f"notices.channels: no notice channel named {name!r}{broken}; installed: {', '.join(plugins.names())}"
            )
        options = plugins.classes[name].options_from(settings)
        if options is None:
            log.info("channel.not_configured", channel=name)
            continue
        channels[name] = plugins.classes[name](options, clock=clock, **extra.get(name, {}))
    return channels
