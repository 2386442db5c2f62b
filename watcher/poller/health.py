"""Per-provider health, the way Home Assistant's DataUpdateCoordinator keeps it:
last success, last error, one log line when trouble starts and one when it ends,
and a pause after an authentication failure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog

__all__ = ["ProviderHealth"]

log = structlog.get_logger("parcelwatch.poller")


@dataclass
class ProviderHealth:
    provider: str
    last_success_at: datetime | None = None
    last_error: str | None = None
    failing: bool = False
    #: set after an authentication failure: no more requests until settings change
    paused: bool = False

    def success(self, now: datetime) -> None:
        if self.failing:
            log.info("provider.recovered", provider=self.provider, after_error=self.last_error)
        self.failing = False
        self.last_error = None
        self.last_success_at = now

    def failure(self, error: str, *, auth: bool = False) -> None:
        if not self.failing:
            log.warning("provider.failing", provider=self.provider, error=error, auth=auth)
        elif auth and not self.paused:
            log.warning("provider.paused", provider=self.provider, error=error)
        self.failing = True
        self.last_error = error
        if auth:
            self.paused = True
