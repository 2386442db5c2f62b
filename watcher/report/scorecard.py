"""Courier scorecard: how each courier did for this shop over the last N days.

Pure: :func:`watcher.report.data.load_scorecard_rows` reads the store, this module
counts.  The cohort is the parcels *shipped* in the window (``shipped_at``, else
the time the parcel was added), so every rate has the same denominator:

- ``parcels``: shipped in the window; ``delivered``: of those, signed for;
- ``median_delivery_hours``: median hours from collection (first scan by the
  courier) to delivery, over the delivered parcels that have both milestones;
- ``stalled_rate`` / ``unreachable_rate`` / ``exception_rate`` /
  ``not_collected_rate``: share of the parcels flagged so at least once (an
  episode cleared since still counts: it happened).

Per destination province only where a courier carried at least ``min_parcels``
parcels there: a rate over three parcels tells a shop nothing.

Provider health comes from ``poll_log`` (one row per provider per poll cycle):
cycles, requests, parcels asked about, parcels the provider failed to answer,
and outages — runs of consecutive cycles ending in an error — with the longest.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from watcher.redact import mask_text

__all__ = [
    "ScoreParcel", "PollRow", "CourierScore", "ProviderScore", "Scorecard", "build_scorecard", "RATE_FLAGS",
]

#: the flags whose rates the scorecard shows, in this order
RATE_FLAGS = ("stalled", "unreachable", "exception", "not_collected")


@dataclass(frozen=True, slots=True)
class ScoreParcel:
    """One parcel shipped in the window (input)."""

    courier: str
    province: str | None
    collected_at: datetime | None
    delivered_at: datetime | None
    flags: frozenset[str]  # every flag it had an episode of


@dataclass(frozen=True, slots=True)
class PollRow:
    """One ``poll_log`` row (input), oldest first per provider."""

    provider: str
    started_at: datetime
    requests: int
    parcels: int
    failed: int
    error: str | None


@dataclass(frozen=True, slots=True)
class CourierScore:
    carrier: str
    province: str | None  # None: all destinations
    parcels: int
    delivered: int
    median_delivery_hours: float | None
    rates: dict[str, float]  # flag → share of parcels, 0..1
    provinces: tuple[CourierScore, ...] = ()


@dataclass(frozen=True, slots=True)
class ProviderScore:
    provider: str
    cycles: int
    requests: int
    parcels: int
    failed: int  # parcels the provider did not answer
    failed_cycles: int
    outages: int
    longest_outage_hours: float
    ongoing: bool  # the last cycle failed
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Scorecard:
    since: datetime
    until: datetime
    days: int
    min_parcels: int
    couriers: tuple[CourierScore, ...]
    providers: tuple[ProviderScore, ...]


def _score(carrier: str, province: str | None, parcels: Sequence[ScoreParcel]) -> CourierScore:
    hours = [
        (p.delivered_at - p.collected_at).total_seconds() / 3600
        for p in parcels
        if p.delivered_at is not None and p.collected_at is not None and p.delivered_at >= p.collected_at
    ]
    n = len(parcels)
    rates = {flag: round(sum(1 for p in parcels if flag in p.flags) / n, 4) if n else 0.0 for flag in RATE_FLAGS}
    return CourierScore(
        carrier=carrier, province=province, parcels=n,
        delivered=sum(1 for p in parcels if p.delivered_at is not None),
        median_delivery_hours=round(statistics.median(hours), 1) if hours else None, rates=rates,
    )


def _couriers(parcels: Iterable[ScoreParcel], min_parcels: int) -> tuple[CourierScore, ...]:
    by_courier: dict[str, list[ScoreParcel]] = defaultdict(list)
    for p in parcels:
        by_courier[p.courier].append(p)
    scores = []
    for carrier, items in by_courier.items():
        by_province: dict[str, list[ScoreParcel]] = defaultdict(list)
        for p in items:
            if p.province:
                by_province[p.province].append(p)
        provinces = tuple(sorted(
            (_score(carrier, province, rows) for province, rows in by_province.items() if len(rows) >= min_parcels),
            key=lambda s: (-s.parcels, s.province or ""),
        ))
        whole = _score(carrier, None, items)
        scores.append(CourierScore(whole.carrier, None, whole.parcels, whole.delivered, whole.median_delivery_hours,
                                   whole.rates, provinces))
    return tuple(sorted(scores, key=lambda s: (-s.parcels, s.carrier)))


def _provider(name: str, rows: Sequence[PollRow], until: datetime) -> ProviderScore:
    outages = 0
    longest = 0.0
    started: datetime | None = None
    for row in rows:
        if row.error:
            if started is None:
                started, outages = row.started_at, outages + 1
        elif started is not None:
            longest = max(longest, (row.started_at - started).total_seconds() / 3600)
            started = None
    if started is not None:  # still failing at the end of the window
        longest = max(longest, (until - started).total_seconds() / 3600)
    errors = [row.error for row in rows if row.error]
    return ProviderScore(
        provider=name, cycles=len(rows), requests=sum(r.requests for r in rows), parcels=sum(r.parcels for r in rows),
        failed=sum(r.failed for r in rows), failed_cycles=len(errors), outages=outages,
        longest_outage_hours=round(longest, 2), ongoing=started is not None, last_error=mask_text(errors[-1]) if errors else None,
    )


def build_scorecard(
    parcels: Iterable[ScoreParcel], poll_rows: Iterable[PollRow], *, since: datetime, until: datetime, days: int,
    min_parcels: int,
) -> Scorecard:
    by_provider: dict[str, list[PollRow]] = defaultdict(list)
    for row in poll_rows:
        by_provider[row.provider].append(row)
    providers = tuple(
        _provider(name, sorted(rows, key=lambda r: r.started_at), until) for name, rows in sorted(by_provider.items())
    )
    return Scorecard(since=since, until=until, days=days, min_parcels=min_parcels,
                     couriers=_couriers(parcels, min_parcels), providers=providers)
