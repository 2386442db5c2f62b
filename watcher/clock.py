"""Injectable clocks. Nothing in parcelwatch calls ``datetime.now()`` directly."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from typing import Protocol

__all__ = ["Clock", "SystemClock", "ManualClock", "utc", "local_minute"]


def utc(value: datetime) -> datetime:
    """Return ``value`` as an aware UTC datetime (naive values are taken as UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def local_minute(value: datetime | None, tz: tzinfo) -> str:
    """``2026-11-20 21:30`` in ``tz`` (shop time, to the minute); ``""`` for no time."""
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else ""


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class ManualClock:
    """A clock that only moves when told to: for tests, the demo and benchmarks."""

    def __init__(self, start: datetime) -> None:
        self._now = utc(start)

    def now(self) -> datetime:
        return self._now

    def set(self, value: datetime) -> None:
        self._now = utc(value)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self._now += delta if delta is not None else timedelta(**kwargs)
        return self._now
