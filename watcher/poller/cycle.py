"""One poll cycle: claim due parcels, ask their providers, judge, store.

Per provider the cycle runs requests concurrently (bounded by the adapter's and
the settings' limits, spaced by the adapter's rate limit) and hands answers to a
single writer that stores them in bulk, a transaction per couple of hundred
parcels, while further requests are in flight.  A provider in trouble retries with backoff,
then gives up for this cycle without touching other providers — and without
making its parcels look stalled: only answers move ``last_polled_at``.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
import structlog

from carriers.base import CarrierAdapter, ProblemKind, TrackingQuery, TrackingResult
from carriers.registry import Registry, discover
from watcher.clock import Clock, SystemClock
from watcher.errors import ConfigError, ProviderAuthError, ProviderError, ProviderTransient
from watcher.poller.health import ProviderHealth
from watcher.poller.limiter import RateLimiter
from watcher.rules import ParcelFacts, Verdict, evaluate
from watcher.rules.calendar import HolidayCalendar, PeakPeriod
from watcher.settings import Settings
from watcher.store.db import Database
from watcher.store.models import PollLog
from watcher.store.polling import (
    ClaimedParcel,
    ParcelUpdate,
    claim_due,
    flags_value,
    last_poll_error,
    record_poll_log,
    release,
    write_updates,
)

__all__ = ["Poller", "CycleSummary", "ProviderStats", "build_adapter"]

log = structlog.get_logger("parcelwatch.poller")
Sleep = Callable[[float], Awaitable[None]]

#: parcels stored per transaction; each commit has a fixed cost, so answers are grouped
WRITE_BATCH = 200

#: statuses of a parcel the provider has never reported on
_NOTHING_YET = {"pending", "info_received", "unknown"}

#: problems that will not go away by asking again soon: poll these far less often
_SLOW_PROBLEMS = {ProblemKind.INVALID_NUMBER, ProblemKind.UNSUPPORTED_COURIER}


@dataclass
class ProviderStats:
    requests: int = 0
    parcels: int = 0
    answered: int = 0
    updated: int = 0
    new_checkpoints: int = 0
    problems: int = 0
    failed: int = 0
    skipped: int = 0  # provider minimum interval not yet elapsed, or provider paused
    error: str | None = None


@dataclass
class CycleSummary:
    started_at: datetime
    finished_at: datetime | None = None
    providers: dict[str, ProviderStats] = field(default_factory=lambda: defaultdict(ProviderStats))

    def total(self, name: str) -> int:
        return sum(getattr(s, name) for s in self.providers.values())

    def as_dict(self) -> dict[str, object]:
        keys = ("parcels", "answered", "updated", "new_checkpoints", "problems", "failed", "skipped", "requests")
        return {
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            **{k: self.total(k) for k in keys},
            "providers": {name: vars(stats) for name, stats in sorted(self.providers.items())},
        }


def build_adapter(
    registry: Registry,
    settings: Settings,
    name: str,
    *,
    clock: Clock,
    transport: httpx.AsyncBaseTransport | None = None,
) -> CarrierAdapter:
    """Instantiate provider ``name`` from ``[providers.<name>]``; errors name the key."""
    if name not in registry.adapters:
        broken = f" (its plug-in failed to load: {registry.failed[name]})" if name in registry.failed else ""
        raise ConfigError(
            f"tracking: no carrier adapter named {name!r}{broken}; installed: {', '.join(registry.names())}"
        )
    return registry.adapters[name](settings.provider_settings(name), transport=transport, clock=clock)


class Poller:
    """Polls due parcels.  Keep one per process; it remembers provider health."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        registry: Registry | None = None,
        clock: Clock | None = None,
        owner: str | None = None,
        transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.db = db
        self.settings = settings
        self.registry = registry or discover()
        self.clock = clock or SystemClock()
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}"
        self._transports = dict(transports or {})
        self._sleep = sleep
        self._adapters: dict[str, CarrierAdapter] = {}
        self._limiters: dict[str, RateLimiter] = {}
        self.health: dict[str, ProviderHealth] = {}
        detection = settings.detection
        self.calendar = HolidayCalendar(
            settings.shop.tz, [PeakPeriod.parse(p) for p in detection.peaks], holidays=detection.holidays
        )
        self._held: set[str] = set()  # lease tokens not yet released

    # -- set-up -------------------------------------------------------------
    def adapter(self, name: str) -> CarrierAdapter:
        if name not in self._adapters:
            adapter = build_adapter(
                self.registry, self.settings, name, clock=self.clock, transport=self._transports.get(name)
            )
            self._adapters[name] = adapter
            self._limiters[name] = RateLimiter(adapter.request_rate, sleep=self._sleep)
            previous_error = last_poll_error(self.db, name)
            self.health[name] = ProviderHealth(name, failing=previous_error is not None, last_error=previous_error)
        return self._adapters[name]

    async def aclose(self) -> None:
        self.release_all()
        for adapter in self._adapters.values():
            await adapter.aclose()
        self._adapters.clear()

    def release_all(self) -> int:
        """Give back every lease this poller still holds (shutdown, cancellation)."""
        count = release(self.db, self._held)
        self._held.clear()
        return count

    # -- the cycle ----------------------------------------------------------
    async def run_cycle(self, *, all_parcels: bool = False) -> CycleSummary:
        now = self.clock.now()
        summary = CycleSummary(started_at=now)
        lease = timedelta(minutes=self.settings.tracking.lease_minutes)
        after_id: int | None = 0 if all_parcels else None
        try:
            while True:
                token = f"{self.owner}:{uuid.uuid4().hex[:12]}"
                claimed = claim_due(
                    self.db,
                    token=token,
                    now=self.clock.now(),
                    cutoff=now,
                    lease_until=self.clock.now() + lease,
                    limit=self.settings.tracking.claim_size,
                    all_after_id=after_id,
                )
                if not claimed:
                    break
                self._held.add(token)
                if after_id is not None:
                    after_id = claimed[-1].id
                await self._poll_claimed(claimed, token, now, summary)
                release(self.db, [token])  # anything not written (should be nothing)
                self._held.discard(token)
        finally:
            self.release_all()
        summary.finished_at = self.clock.now()
        self._log_cycle(summary)
        return summary

    async def _poll_claimed(
        self, claimed: Sequence[ClaimedParcel], token: str, now: datetime, summary: CycleSummary
    ) -> None:
        groups: dict[str, list[ClaimedParcel]] = defaultdict(list)
        deferred: list[ParcelUpdate] = []
        for parcel in claimed:
            name = self.settings.provider_for(parcel.courier)
            adapter = self.adapter(name)
            stats = summary.providers[name]
            if self.health[name].paused:
                stats.skipped += 1
                continue  # lease released after the batch; parcel stays due
            if not adapter.covers(parcel.courier):
                stats.problems += 1
                deferred.append(self._problem_update(parcel, name, f"unsupported_courier: {name} does not track {parcel.courier}", now, slow=True))
                continue
            ready_at = parcel.last_queried_at + adapter.min_interval if parcel.last_queried_at else now
            if ready_at > now:
                stats.skipped += 1
                deferred.append(ParcelUpdate(parcel.id, {"next_poll_at": ready_at}))
                continue
            groups[name].append(parcel)

        queue: asyncio.Queue[list[ParcelUpdate] | None] = asyncio.Queue()
        if deferred:
            queue.put_nowait(deferred)
        writer = asyncio.create_task(self._writer(queue, token, now, summary))
        try:
            await asyncio.gather(*(self._poll_provider(name, parcels, queue, now, summary) for name, parcels in groups.items()))
        finally:
            queue.put_nowait(None)
            await writer

    async def _writer(
        self, queue: asyncio.Queue[list[ParcelUpdate] | None], token: str, now: datetime, summary: CycleSummary
    ) -> None:
        """Store answers in bulk: one transaction per ``WRITE_BATCH`` parcels (and one for the rest)."""
        pending: list[ParcelUpdate] = []
        while True:
            item = await queue.get()
            if item is not None:
                pending.extend(item)
            if pending and (item is None or len(pending) >= WRITE_BATCH):
                write_updates(self.db, pending, token=token, now=now)
                for update in pending:
                    if update.provider:
                        summary.providers[update.provider].new_checkpoints += update.new_checkpoints
                pending = []
            if item is None:
                return

    async def _poll_provider(
        self,
        name: str,
        parcels: Sequence[ClaimedParcel],
        queue: asyncio.Queue[list[ParcelUpdate] | None],
        now: datetime,
        summary: CycleSummary,
    ) -> None:
        adapter = self._adapters[name]
        stats = summary.providers[name]
        stats.parcels += len(parcels)
        started = self.clock.now()
        limit = asyncio.Semaphore(max(1, min(adapter.max_concurrency, self.settings.tracking.concurrency)))
        size = max(1, adapter.batch_size)

        async def one(batch: Sequence[ClaimedParcel]) -> None:
            async with limit:
                try:
                    results = await self._request(adapter, batch, stats)
                except ProviderError as exc:
                    stats.failed += len(batch)
                    stats.error = str(exc)[:300]
                    queue.put_nowait([self._failure_update(p, str(exc), now, adapter) for p in batch])
                    return
            queue.put_nowait([self._result_update(p, r, name, now, adapter, stats) for p, r in zip(batch, results)])

        await asyncio.gather(*(one(parcels[i : i + size]) for i in range(0, len(parcels), size)))
        await asyncio.to_thread(
            record_poll_log,
            self.db,
            PollLog(
                provider=name, owner=self.owner, started_at=started, finished_at=self.clock.now(),
                requests=stats.requests, parcels=stats.parcels, updated=stats.updated,
                problems=stats.problems, failed=stats.failed, error=stats.error,
            ),
        )

    async def _request(
        self, adapter: CarrierAdapter, batch: Sequence[ClaimedParcel], stats: ProviderStats
    ) -> list[TrackingResult]:
        """Ask the provider, retrying transient trouble with backoff; raise ProviderError at the end."""
        health = self.health[adapter.name]
        queries = [_query(p) for p in batch]
        tries = self.settings.tracking.max_attempts
        error: ProviderError | None = None
        for attempt in range(1, tries + 1):
            if health.paused:
                raise ProviderAuthError(health.last_error or "provider paused", provider=adapter.name)
            await self._limiters[adapter.name].acquire()
            stats.requests += 1
            try:
                results = await adapter.track(queries)
                _check_results(adapter.name, queries, results)
            except ProviderAuthError as exc:
                health.failure(str(exc), auth=True)
                raise
            except ProviderTransient as exc:
                error = exc
                if attempt < tries:
                    delay = exc.retry_after if exc.retry_after is not None else (
                        self.settings.tracking.backoff_seconds * 2 ** (attempt - 1)
                    )
                    await self._sleep(min(delay, 60.0))
                continue
            except ProviderError as exc:  # rejected: retrying the same request cannot help
                health.failure(str(exc))
                raise
            except ConfigError:  # e.g. missing credentials: the user must fix settings
                raise
            except Exception as exc:  # a bug in an adapter must not stop the cycle
                error = ProviderTransient(f"{adapter.name}: adapter error {type(exc).__name__}: {exc}", provider=adapter.name)
                log.error("provider.adapter_error", provider=adapter.name, error=str(exc), exc_info=True)
                break
            health.success(self.clock.now())
            return results
        assert error is not None
        health.failure(str(error))
        raise error

    # -- turning answers into row updates (pure) ------------------------------
    def _interval(self, adapter: CarrierAdapter, *, slow: bool = False) -> timedelta:
        base = timedelta(minutes=self.settings.tracking.poll_minutes * (12 if slow else 1))
        return max(base, adapter.min_interval)

    def _result_update(
        self, parcel: ClaimedParcel, result: TrackingResult, name: str, now: datetime,
        adapter: CarrierAdapter, stats: ProviderStats,
    ) -> ParcelUpdate:
        stats.answered += 1
        tracking = result.tracking
        values: dict[str, object] = {
            "provider": name, "problem": None, "last_queried_at": now, "last_polled_at": now,
            "poll_failures": 0, "last_poll_error": None,
        }
        slow = False
        if tracking is None:
            assert result.problem is not None
            stats.problems += 1
            slow = result.problem.kind in _SLOW_PROBLEMS
            values["problem"] = f"{result.problem.kind.value}: {result.problem.message}"[:200]
            if parcel.status not in _NOTHING_YET:
                # The provider forgot a parcel it once tracked: keep what we know.
                values["next_poll_at"] = now + self._interval(adapter, slow=slow)
                return ParcelUpdate(parcel.id, values, provider=name)
        else:
            values["provider_state"] = tracking.raw_status[:32] or None
        facts = ParcelFacts(
            courier=parcel.courier, tracking_number=parcel.tracking_number, status=parcel.status,
            shipped_at=parcel.shipped_at, created_at=parcel.created_at, province=parcel.province,
            city=parcel.city, district=parcel.district,
        )
        verdict = evaluate(facts, tracking, now, self.calendar, self.settings.detection)
        values["next_poll_at"] = None if verdict.terminal else now + self._interval(adapter, slow=slow)
        last = verdict.last_checkpoint
        if last is not None:
            values.update(
                last_checkpoint_at=last.time, last_checkpoint_text=last.text,
                last_checkpoint_location=last.location[:200] or None,
            )
        if verdict.status.value != parcel.status:
            values.update(status=verdict.status.value, status_changed_at=now)
            stats.updated += 1
            log.info(
                "parcel.status_changed", parcel=parcel.tracking_number, courier=parcel.courier,
                provider=name, old=parcel.status, new=verdict.status.value,
            )
        update = ParcelUpdate(parcel.id, values, checkpoints=tracking.checkpoints if tracking else (), provider=name)
        self._record_flags(parcel, verdict, now, update)
        return update

    def _record_flags(self, parcel: ClaimedParcel, verdict: Verdict, now: datetime, update: ParcelUpdate) -> None:
        """Flags on the row, the verdict as JSON, and flag history: raised, cleared, escalated."""
        new = {flag.name: flag for flag in verdict.flags}
        old = set(parcel.flag_list())
        update.values["flags"] = flags_value(new)
        update.values["verdict"] = json.dumps(verdict.as_dict(now), ensure_ascii=False)
        update.raised = [
            {"flag": f.name, "code": f.code, "reason": f.reason, "since": f.since, "level": f.level}
            for name, f in new.items() if name not in old
        ]
        update.cleared = sorted(old - new.keys())
        update.levels = {name: f.level for name, f in new.items() if name in old and f.level}
        for row in update.raised:
            log.info("parcel.flagged", parcel=parcel.tracking_number, courier=parcel.courier,
                     flag=row["flag"], code=row["code"], level=row["level"])
        for name in update.cleared:
            log.info("parcel.unflagged", parcel=parcel.tracking_number, courier=parcel.courier, flag=name)

    def _problem_update(
        self, parcel: ClaimedParcel, name: str, text: str, now: datetime, *, slow: bool,
        adapter: CarrierAdapter | None = None,
    ) -> ParcelUpdate:
        interval = self._interval(adapter or self._adapters[name], slow=slow)
        return ParcelUpdate(
            parcel.id,
            {
                "problem": text[:200], "provider": name, "last_queried_at": now, "last_polled_at": now,
                "poll_failures": 0, "last_poll_error": None, "next_poll_at": now + interval,
            },
        )

    def _failure_update(self, parcel: ClaimedParcel, error: str, now: datetime, adapter: CarrierAdapter) -> ParcelUpdate:
        """We could not ask: record it, retry later with backoff; never touch last_polled_at."""
        failures = parcel.poll_failures + 1
        backoff = timedelta(minutes=min(self.settings.tracking.poll_minutes, 5 * 2 ** min(failures - 1, 10)))
        return ParcelUpdate(
            parcel.id,
            {
                "last_queried_at": now, "poll_failures": failures, "last_poll_error": error[:300],
                "next_poll_at": now + max(backoff, adapter.min_interval),
            },
        )

    def _log_cycle(self, summary: CycleSummary) -> None:
        data = summary.as_dict()
        data.pop("providers")
        log.info("poll.cycle", **data)


def _query(parcel: ClaimedParcel) -> TrackingQuery:
    return TrackingQuery(
        courier=parcel.courier, tracking_number=parcel.tracking_number, phone=parcel.buyer_phone,
        shipped_at=parcel.shipped_at, province=parcel.province or "", city=parcel.city or "",
        district=parcel.district or "",
    )


def _check_results(provider: str, queries: Sequence[TrackingQuery], results: Sequence[TrackingResult]) -> None:
    if len(results) != len(queries) or any(r.query.tracking_number != q.tracking_number for q, r in zip(queries, results)):
        raise ProviderTransient(f"{provider}: adapter returned results that do not match the queries", provider=provider)
