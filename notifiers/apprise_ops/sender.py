"""Send one ops message (title, text, attachments) to every configured apprise URL.

apprise URLs carry tokens (``dingtalk://TOKEN/``, ``tgram://BOT_TOKEN/CHAT``,
``mailto://user:password@host``): they are only ever logged masked — apprise's
own privacy form (``dingtalk://a...p/``) without its query string.

Each destination is tried on its own, up to ``attempts`` times with a pause
between tries (``sleep`` is injected so tests never wait); one chat being down
does not keep the report from the others.  Services that cannot take
attachments get the text alone (apprise drops the files for them), so the text
must stand on its own.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from watcher.errors import ConfigError

__all__ = ["OpsNotifier", "OpsDelivery", "mask_url"]

log = structlog.get_logger("parcelwatch.ops")

_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.-]*)://")


def mask_url(url: str) -> str:
    """A URL apprise could not parse, for an error line: its scheme only."""
    match = _SCHEME.match(url)
    return f"{match.group(1)}://***" if match else "***"


def _destination(server: Any) -> str:
    """How a destination is shown: apprise's privacy form, without the query string."""
    return str(server.url(privacy=True)).split("?", 1)[0]


@dataclass(frozen=True, slots=True)
class OpsDelivery:
    destination: str  # masked
    ok: bool
    attempts: int
    attachments: bool  # whether the service took the files


class OpsNotifier:
    """The destinations of ``report.notify``; invalid URLs are a :class:`ConfigError` at construction."""

    def __init__(self, urls: Sequence[str], *, key: str = "report.notify", attempts: int = 3,
                 pause: float = 30.0, sleep: Callable[[float], object] | None = None) -> None:
        import apprise  # about 0.5 s to import: only when ops messages are configured

        self._apprise = apprise
        self.attempts = max(1, attempts)
        self.pause = pause
        self._sleep = sleep
        self._servers: list[Any] = []
        for i, url in enumerate(urls):
            instance = apprise.Apprise.instantiate(url.strip())
            if not instance:
                raise ConfigError(f"{key}[{i}]: apprise cannot use {mask_url(url)} (unknown scheme or bad URL)")
            self._servers.append(instance)

    def __repr__(self) -> str:
        return f"OpsNotifier({self.destinations!r})"

    @property
    def destinations(self) -> list[str]:
        return [_destination(server) for server in self._servers]

    def send(self, title: str, body: str, attachments: Sequence[Path] = ()) -> list[OpsDelivery]:
        return [self._send_one(server, title, body, attachments) for server in self._servers]

    def _send_one(self, server: Any, title: str, body: str, attachments: Sequence[Path]) -> OpsDelivery:
        destination = _destination(server)
        with_files = bool(attachments) and bool(getattr(server, "attachment_support", False))
        for attempt in range(1, self.attempts + 1):
            attach = self._apprise.AppriseAttachment([str(p) for p in attachments]) if with_files else None
            try:
                ok = bool(server.notify(body=body, title=title, attach=attach))
            except Exception as exc:  # a plug-in bug must not take the daemon down
                log.warning("ops.send_error", destination=destination, error=type(exc).__name__)
                ok = False
            if ok:
                log.info("ops.sent", destination=destination, attempts=attempt, attachments=with_files)
                return OpsDelivery(destination, True, attempt, with_files)
            if attempt < self.attempts:
                (self._sleep or time.sleep)(self.pause * attempt)
        log.warning("ops.failed", destination=destination, attempts=self.attempts)
        return OpsDelivery(destination, False, self.attempts, with_files)
