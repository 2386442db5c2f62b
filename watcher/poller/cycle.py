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
import os
import socket
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta

import httpx
import structlog

from carriers.base import CarrierAdapter, TrackingQuery, TrackingResult
from carriers.registry import Registry, discover
from watcher.clock import Clock, SystemClock
from watcher.errors import ConfigError, ProviderAuthError, ProviderError, ProviderTransient
from watcher.poller.health import ProviderHealth
from watcher.poller.limiter import RateLimiter
from watcher.poller.summary import CycleSummary, ProviderStats
from watcher.poller.updates import Updates
from watcher.settings import Settings
from watcher.store.db import Database
from watcher.store.models import PollLog
from watcher.store.polling import (
    ClaimedParcel,
    ParcelUpdate,
    claim_due,
    last_poll_error,
    record_poll_log,
    release,
    write_updates,
)

__all__ = ["Poller", "build_adapter"]

log = structlog.get_logger("parcelwatch.poller")
Sleep = Callable[[float], Awaitable[None]]

#: parcels stored per transaction; each commit has a fixed cost, so answers are grouped
WRITE_BATCH = 200

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
        self.updates = Updates(settings)
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
                text = f"unsupported_courier: {name} does not track {parcel.courier}"
                deferred.append(self.updates.problem(parcel, name, text, now, slow=True, adapter=adapter))
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
                    queue.put_nowait([self.updates.failure(p, str(exc), now, adapter) for p in batch])
                    return
            queue.put_nowait([self.updates.answer(p, r, name, now, adapter, stats) for p, r in zip(batch, results)])

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

    def _log_cycle(self, summary: CycleSummary) -> None:
        data = summary.as_dict()
        data.pop("providers")
        # an idle cycle (nothing due) is not news: debug only, so `run` at info stays quiet
        (log.info if summary.total("parcels") else log.debug)("poll.cycle", **data)


def _query(parcel: ClaimedParcel) -> TrackingQuery:
    return TrackingQuery(
        courier=parcel.courier, tracking_number=parcel.tracking_number, phone=parcel.buyer_phone,
        shipped_at=parcel.shipped_at, province=parcel.province or "", city=parcel.city or "",
        district=parcel.district or "",
    )


def _check_results(provider: str, queries: Sequence[TrackingQuery], results: Sequence[TrackingResult]) -> None:
    if len(results) != len(queries) or any(r.query.tracking_number != q.tracking_number for q, r in zip(queries, results)):
        raise ProviderTransient(f"{provider}: adapter returned results that do not match the queries", provider=provider)
