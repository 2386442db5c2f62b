"""Courier scorecard: how each courier did for this shop over the last N days.

Pure: :func:`watcher.report.data.load_scorecard_rows` reads the store — counted and
grouped there, so a month of parcels never becomes a month of Python objects — and
this module puts the numbers together.  The cohort is the parcels *shipped* in the window (``shipped_at``, else
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
The store hands over only the cycles where a provider went from working to
failing or back (:class:`PollTransition`), not every cycle.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from watcher.redact import mask_text

__all__ = [
    "ScoreInput", "CohortCount", "FlagCount", "Delivery", "ProviderTotals", "PollTransition", "CourierScore",
    "ProviderScore", "Scorecard", "build_scorecard", "RATE_FLAGS",
]

#: the flags whose rates the scorecard shows, in this order
RATE_FLAGS = ("stalled", "unreachable", "exception", "not_collected")


@dataclass(frozen=True, slots=True)
class CohortCount:
    """Parcels one courier shipped to one province in the window (province None: unknown)."""

    courier: str
    province: str | None
    parcels: int
    delivered: int


@dataclass(frozen=True, slots=True)
class FlagCount:
    """How many of those parcels had at least one episode of ``flag``."""

    courier: str
    province: str | None
    flag: str
    parcels: int


@dataclass(frozen=True, slots=True)
class Delivery:
    """One delivered parcel of the cohort with both milestones: hours from collection to delivery."""

    courier: str
    province: str | None
    hours: float


@dataclass(frozen=True, slots=True)
class ProviderTotals:
    provider: str
    cycles: int
    requests: int
    parcels: int
    failed: int
    failed_cycles: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class PollTransition:
    """A cycle where ``provider`` started failing (``failing``) or worked again."""

    provider: str
    started_at: datetime
    failing: bool


@dataclass(frozen=True, slots=True)
class ScoreInput:
    """Everything the scorecard is computed from (what the store query returns)."""

    cohort: Sequence[CohortCount] = ()
    flags: Sequence[FlagCount] = ()
    deliveries: Sequence[Delivery] = ()
    providers: Sequence[ProviderTotals] = ()
    transitions: Sequence[PollTransition] = ()  # oldest first per provider


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

    def by_destination(self) -> list[tuple[str, list[CourierScore]]]:
        """Provinces where at least two couriers have a line, each with its couriers fastest first
        (median hours, then fewer stalls; no median last): which courier to use where."""
        places: dict[str, list[CourierScore]] = defaultdict(list)
        for courier in self.couriers:
            for line in courier.provinces:
                places[line.province or ""].append(line)

        def speed(s: CourierScore) -> tuple[bool, float, float, str]:
            median = s.median_delivery_hours
            return (median is None, median or 0.0, s.rates["stalled"], s.carrier)

        compared = [(province, sorted(lines, key=speed)) for province, lines in places.items() if len(lines) >= 2]
        return sorted(compared, key=lambda item: (-sum(s.parcels for s in item[1]), item[0]))


@dataclass
class _Tally:
    parcels: int = 0
    delivered: int = 0
    flagged: dict[str, int] = field(default_factory=dict)
    hours: list[float] = field(default_factory=list)

    def score(self, carrier: str, province: str | None, provinces: tuple[CourierScore, ...] = ()) -> CourierScore:
        n = self.parcels
        rates = {flag: round(self.flagged.get(flag, 0) / n, 4) if n else 0.0 for flag in RATE_FLAGS}
        median = round(statistics.median(self.hours), 1) if self.hours else None
        return CourierScore(carrier, province, n, self.delivered, median, rates, provinces)


def _couriers(data: ScoreInput, min_parcels: int) -> tuple[CourierScore, ...]:
    whole: dict[str, _Tally] = defaultdict(_Tally)
    regional: dict[tuple[str, str], _Tally] = defaultdict(_Tally)
    for c in data.cohort:
        for tally in (whole[c.courier], *([regional[c.courier, c.province]] if c.province else [])):
            tally.parcels += c.parcels
            tally.delivered += c.delivered
    for f in data.flags:
        for tally in (whole[f.courier], *([regional[f.courier, f.province]] if f.province else [])):
            tally.flagged[f.flag] = tally.flagged.get(f.flag, 0) + f.parcels
    for d in data.deliveries:
        if d.hours < 0:
            continue  # a provider's clock gone wrong: no duration
        whole[d.courier].hours.append(d.hours)
        if d.province:
            regional[d.courier, d.province].hours.append(d.hours)
    scores = []
    for carrier, tally in whole.items():
        provinces = tuple(sorted(
            (t.score(carrier, province) for (c, province), t in regional.items()
             if c == carrier and t.parcels >= min_parcels),
            key=lambda s: (-s.parcels, s.province or ""),
        ))
        scores.append(tally.score(carrier, None, provinces))
    return tuple(sorted(scores, key=lambda s: (-s.parcels, s.carrier)))


def _provider(totals: ProviderTotals, transitions: Sequence[PollTransition], until: datetime) -> ProviderScore:
    outages = 0
    longest = 0.0
    started: datetime | None = None
    for t in transitions:
        if t.failing and started is None:
            started, outages = t.started_at, outages + 1
        elif not t.failing and started is not None:
            longest = max(longest, (t.started_at - started).total_seconds() / 3600)
            started = None
    if started is not None:  # still failing at the end of the window
        longest = max(longest, (until - started).total_seconds() / 3600)
    return ProviderScore(
        provider=totals.provider, cycles=totals.cycles, requests=totals.requests, parcels=totals.parcels,
        failed=totals.failed, failed_cycles=totals.failed_cycles, outages=outages,
        longest_outage_hours=round(longest, 2), ongoing=started is not None,
        last_error=mask_text(totals.last_error) if totals.last_error else None,
    )


def build_scorecard(data: ScoreInput, *, since: datetime, until: datetime, days: int, min_parcels: int) -> Scorecard:
    by_provider: dict[str, list[PollTransition]] = defaultdict(list)
    for t in data.transitions:
        by_provider[t.provider].append(t)
    providers = tuple(
        _provider(totals, sorted(by_provider.get(totals.provider, ()), key=lambda t: t.started_at), until)
        for totals in sorted(data.providers, key=lambda p: p.provider)
    )
    return Scorecard(since=since, until=until, days=days, min_parcels=min_parcels,
                     couriers=_couriers(data, min_parcels), providers=providers)
