"""The console channel (``console``), registered under ``parcelwatch.notifiers``.

Writes one line per notice to a text stream (standard output by default)::

    [notice] dispatch → +86139****5678 (1 seg): 【小鲸鱼】您的包裹已发出…

It is the demo's stand-in for SMS, so its ``kind`` is ``"sms"``: with
``notices.channels = ["chat", "sms"]`` and no chat channel configured, every notice
lands here, and the segment count shows what a real SMS would cost.  The phone (or,
without one, the chat id) is masked; the body is printed as the buyer would see it.
Nothing is sent anywhere; every notice is ``DELIVERED`` with ``console-<n>`` as id.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from typing import Any, TextIO

from notifiers.base import Channel, ChannelSettings, Message, Recipient, SendResult, SendState
from notifiers.segments import segments
from watcher.clock import Clock
from watcher.errors import ChannelPermanent
from watcher.redact import mask_name, mask_phone

__all__ = ["ConsoleChannel", "format_line"]


def format_line(recipient: Recipient, message: Message) -> str:
    """The line printed for one notice, without the newline (pure)."""
    to = mask_phone(recipient.phone) if recipient.phone else mask_name(recipient.chat_id)
    return f"[notice] {message.kind} → {to} ({segments(message.body)} seg): {message.body}"


class ConsoleChannel(Channel):
    """Print notices instead of sending them (the demo, dry runs)."""

    name = "console"
    kind = "sms"  # stands in for SMS in the demo: see the module docstring

    def __init__(
        self,
        settings: ChannelSettings | Mapping[str, Any] | None = None,
        *,
        stream: TextIO | None = None,
        transport: Any = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(settings, transport=transport, clock=clock)
        self._stream = stream
        self._count = 0
        self._lock = threading.Lock()

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stdout  # looked up late: capsys, redirects

    def can_reach(self, recipient: Recipient) -> bool:
        return bool(recipient.phone or recipient.chat_id)

    async def send(self, recipient: Recipient, message: Message) -> SendResult:
        if not self.can_reach(recipient):
            raise ChannelPermanent(f"{self.name}: recipient has no phone or chat id",
                                   channel=self.name, code="no_address")
        self.check_length(message)
        line = format_line(recipient, message)
        with self._lock:
            self._count += 1
            n = self._count
            self.stream.write(line + "\n")
            flush = getattr(self.stream, "flush", None)
            if flush is not None:
                flush()
        return SendResult(SendState.DELIVERED, provider_id=f"console-{n}", segments=max(1, segments(message.body)))
