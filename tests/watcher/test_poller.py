"""The poll cycle against scripted adapters: storing, scheduling, failures, leases."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import ClassVar

import pytest
from sqlmodel import select
from structlog.testing import capture_logs

from carriers.base import (
    CarrierAdapter,
    Checkpoint,
    Problem,
    ProblemKind,
    Status,
    Tracking,
    TrackingQuery,
    TrackingResult,
)
from carriers.registry import Registry
from tests.support import T0, make_settings
from watcher.clock import ManualClock
from watcher.errors import ProviderAuthError, ProviderRejected, ProviderTransient
from watcher.poller import Poller
from watcher.store.db import Database
from watcher.store.models import Checkpoint as StoredCheckpoint
from watcher.store.models import Parcel, PollLog

Behaviour = Callable[[TrackingQuery, int], TrackingResult]  # (query, call number) -> result


def cp(hours: float, text: str, status: Status = Status.IN_TRANSIT, location: str = "杭州市") -> Checkpoint:
    return Checkpoint(time=T0 + timedelta(hours=hours), text=text, location=location, status=status)


def tracked(q: TrackingQuery, status: Status, *cps: Checkpoint) -> TrackingResult:
    ordered = tuple(sorted(cps, key=lambda c: c.time, reverse=True))
    return TrackingResult(q, tracking=Tracking(status=status, checkpoints=ordered, provider="fake"))


def make_adapter(
    name: str = "fake",
    behaviour: Behaviour | None = None,
    *,
    min_interval: timedelta = timedelta(0),
    batch_size: int = 10,
    raises: Sequence[Exception] = (),
) -> type[CarrierAdapter]:
    """A scripted adapter class; ``raises`` are raised by the first calls, in order."""
    calls = Counter()
    lock = threading.Lock()
    pending = list(raises)

    def default(q: TrackingQuery, n: int) -> TrackingResult:
        return tracked(q, Status.COLLECTED, cp(1, "【杭州市】已揽收", Status.COLLECTED))

    class Scripted(CarrierAdapter):
        couriers: ClassVar[frozenset[str]] = frozenset()
        requests: ClassVar[list[list[str]]] = []
        numbers: ClassVar[Counter] = calls

        async def track(self, queries: Sequence[TrackingQuery]) -> list[TrackingResult]:
            with lock:
                type(self).requests.append([q.tracking_number for q in queries])
                if pending:
                    raise pending.pop(0)
                for q in queries:
                    calls[q.tracking_number] += 1
            return [(behaviour or default)(q, calls[q.tracking_number]) for q in queries]

    Scripted.name = name
    Scripted.min_interval = min_interval
    Scripted.batch_size = batch_size
    Scripted.requests = []
    return Scripted


def add_parcels(db: Database, n: int, *, courier: str = "zhongtong", prefix: str = "ZT", now: datetime = T0) -> None:
    with db.session() as s:
        for i in range(n):
            s.add(Parcel(courier=courier, tracking_number=f"{prefix}{i:05d}", created_at=now, updated_at=now,
                         next_poll_at=now, buyer_phone="+8613812345678"))


def parcels(db: Database) -> dict[str, Parcel]:
    with db.session() as s:
        return {p.tracking_number: p for p in s.exec(select(Parcel)).all()}


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def poller_for(db: Database, clock: ManualClock, *adapters: type[CarrierAdapter], sleep: Sleeps | None = None,
               **tracking: object) -> Poller:
    registry = Registry(adapters={a.name: a for a in adapters})
    settings = make_settings(tracking={"provider": adapters[0].name, **tracking})
    return Poller(db, settings, registry=registry, clock=clock, sleep=sleep or Sleeps(), owner="test")


def cycle(poller: Poller, **kw: object):
    async def go():
        try:
            return await poller.run_cycle(**kw)
        finally:
            await poller.aclose()
    return asyncio.run(go())


def test_poll_stores_checkpoints_status_and_next_poll(db: Database, clock: ManualClock) -> None:
    def behaviour(q: TrackingQuery, n: int) -> TrackingResult:
        return tracked(q, Status.IN_TRANSIT, cp(1, "【杭州市】已揽收", Status.COLLECTED),
                       cp(5, "快件已到达【杭州转运中心】"))

    add_parcels(db, 3)
    summary = cycle(poller_for(db, clock, make_adapter(behaviour=behaviour)))
    assert summary.total("answered") == 3 and summary.total("new_checkpoints") == 6
    rows = parcels(db)
    p = rows["ZT00000"]
    assert p.status == "in_transit"
    assert p.last_checkpoint_text == "快件已到达【杭州转运中心】"
    assert p.last_checkpoint_at == T0 + timedelta(hours=5)
    assert p.last_polled_at == T0 and p.next_poll_at == T0 + timedelta(minutes=120)
    assert p.lease_owner is None and p.lease_until is None
    with db.session() as s:
        assert len(s.exec(select(StoredCheckpoint)).all()) == 6


def test_repolling_adds_only_new_checkpoints(db: Database, clock: ManualClock) -> None:
    def behaviour(q: TrackingQuery, n: int) -> TrackingResult:
        cps = [cp(1, "已揽收", Status.COLLECTED), cp(5, "到达转运中心")]
        if n >= 2:
            cps.append(cp(30, "【深圳市】派件中", Status.OUT_FOR_DELIVERY, "深圳市"))
        return tracked(q, cps[-1].status or Status.IN_TRANSIT, *cps)

    add_parcels(db, 1)
    adapter = make_adapter(behaviour=behaviour)
    cycle(poller_for(db, clock, adapter))
    clock.advance(hours=3)
    summary = cycle(poller_for(db, clock, adapter))
    assert summary.total("new_checkpoints") == 1
    with db.session() as s:
        assert len(s.exec(select(StoredCheckpoint)).all()) == 3
    assert parcels(db)["ZT00000"].status == "out_for_delivery"


def test_only_due_parcels_are_polled_unless_all(db: Database, clock: ManualClock) -> None:
    add_parcels(db, 2)
    adapter = make_adapter()
    cycle(poller_for(db, clock, adapter))
    clock.advance(minutes=10)
    assert cycle(poller_for(db, clock, adapter)).total("parcels") == 0  # next poll in 2 h
    assert cycle(poller_for(db, clock, adapter), all_parcels=True).total("answered") == 2


def test_provider_minimum_interval_is_respected_even_with_all(db: Database, clock: ManualClock) -> None:
    add_parcels(db, 2)
    adapter = make_adapter(min_interval=timedelta(minutes=30))
    cycle(poller_for(db, clock, adapter))
    clock.advance(minutes=10)
    summary = cycle(poller_for(db, clock, adapter), all_parcels=True)
    assert summary.total("answered") == 0 and summary.total("skipped") == 2
    assert sum(adapter.numbers.values()) == 2
    clock.advance(minutes=21)
    assert cycle(poller_for(db, clock, adapter), all_parcels=True).total("answered") == 2


def test_delivered_parcels_stop_being_polled(db: Database, clock: ManualClock) -> None:
    def behaviour(q: TrackingQuery, n: int) -> TrackingResult:
        return tracked(q, Status.DELIVERED, cp(1, "已揽收", Status.COLLECTED), cp(40, "已签收", Status.DELIVERED))

    add_parcels(db, 2)
    adapter = make_adapter(behaviour=behaviour)
    cycle(poller_for(db, clock, adapter))
    p = parcels(db)["ZT00000"]
    assert p.status == "delivered" and p.next_poll_at is None
    # the scorecard's milestones are kept as columns
    assert (p.collected_at, p.delivered_at) == (T0 + timedelta(hours=1), T0 + timedelta(hours=40))
    clock.advance(days=1)
    assert cycle(poller_for(db, clock, adapter), all_parcels=True).total("parcels") == 0


def test_not_found_is_a_per_number_value(db: Database, clock: ManualClock) -> None:
    def behaviour(q: TrackingQuery, n: int) -> TrackingResult:
        if q.tracking_number.endswith("1"):
            return TrackingResult(q, problem=Problem(ProblemKind.NOT_FOUND, "查询无结果", "500"))
        return tracked(q, Status.COLLECTED, cp(1, "已揽收", Status.COLLECTED))

    add_parcels(db, 2)
    summary = cycle(poller_for(db, clock, make_adapter(behaviour=behaviour)))
    rows = parcels(db)
    assert summary.total("problems") == 1
    assert rows["ZT00001"].status == "pending" and rows["ZT00001"].problem.startswith("not_found")
    assert rows["ZT00001"].last_polled_at == T0  # an answer, even if "nothing yet"
    assert rows["ZT00000"].status == "collected"


def test_transient_errors_are_retried_with_backoff(db: Database, clock: ManualClock) -> None:
    add_parcels(db, 1)
    sleeps = Sleeps()
    adapter = make_adapter(raises=[ProviderTransient("timeout"), ProviderTransient("429", retry_after=7.0)])
    summary = cycle(poller_for(db, clock, adapter, sleep=sleeps))
    assert summary.total("answered") == 1 and summary.total("failed") == 0
    assert sleeps.calls == [1.0, 7.0]  # backoff, then the provider's Retry-After


def test_provider_outage_does_not_make_parcels_look_polled(db: Database, clock: ManualClock) -> None:
    add_parcels(db, 2)
    adapter = make_adapter(raises=[ProviderTransient("HTTP 503")] * 3)
    with capture_logs() as logs:
        summary = cycle(poller_for(db, clock, adapter))
    assert summary.total("failed") == 2
    p = parcels(db)["ZT00000"]
    assert p.last_polled_at is None and p.status == "pending"
    assert p.poll_failures == 1 and "503" in p.last_poll_error
    assert p.next_poll_at == T0 + timedelta(minutes=5) and p.lease_owner is None
    assert [e["event"] for e in logs].count("provider.failing") == 1
    with db.session() as s:
        log_row = s.exec(select(PollLog)).one()
    assert log_row.failed == 2 and "503" in log_row.error

    # Next cycle the provider answers: one "recovered" line, remembered across processes via the poll log.
    clock.advance(minutes=6)
    with capture_logs() as logs:
        cycle(poller_for(db, clock, adapter))
    assert [e["event"] for e in logs].count("provider.recovered") == 1
    assert parcels(db)["ZT00000"].poll_failures == 0


def test_auth_failure_pauses_that_provider_only(db: Database, clock: ManualClock) -> None:
    bad = make_adapter("bad", raises=[ProviderAuthError("signature rejected")], batch_size=1)
    good = make_adapter("good")
    add_parcels(db, 3, courier="zhongtong", prefix="ZT")
    add_parcels(db, 2, courier="yunda", prefix="YD")
    registry = Registry(adapters={"bad": bad, "good": good})
    settings = make_settings(tracking={"provider": "bad", "routes": {"yunda": "good"}, "concurrency": 1})
    poller = Poller(db, settings, registry=registry, clock=clock, sleep=Sleeps(), owner="t")
    summary = cycle(poller)
    assert len(bad.requests) == 1  # paused after the first auth failure: no hammering
    assert summary.providers["good"].answered == 2
    assert summary.providers["bad"].failed == 3
    assert all(p.last_polled_at is None for n, p in parcels(db).items() if n.startswith("ZT"))


def test_rejected_request_and_adapter_bugs_do_not_stop_the_cycle(db: Database, clock: ManualClock) -> None:
    add_parcels(db, 2)
    adapter = make_adapter(raises=[ProviderRejected("400"), KeyError("boom")], batch_size=1)
    summary = cycle(poller_for(db, clock, adapter, concurrency=1))
    assert summary.total("failed") == 2 and summary.total("answered") == 0
    assert all(p.lease_owner is None for p in parcels(db).values())


@pytest.mark.parametrize("all_parcels", [False, True], ids=["due", "all"])
def test_two_pollers_racing_poll_each_parcel_once(tmp_path, clock: ManualClock, all_parcels: bool) -> None:
    from watcher.store.db import open_database

    url = f"sqlite:///{tmp_path / 'race.db'}"
    setup = open_database(url)
    add_parcels(setup, 300)
    adapter = make_adapter(batch_size=5)
    errors: list[BaseException] = []

    def run(owner: str) -> None:
        try:
            db = open_database(url)
            registry = Registry(adapters={"fake": adapter})
            settings = make_settings(tracking={"provider": "fake", "claim_size": 20})
            poller = Poller(db, settings, registry=registry, clock=clock, sleep=Sleeps(), owner=owner)
            cycle(poller, all_parcels=all_parcels)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f"p{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(adapter.numbers) == 300 and set(adapter.numbers.values()) == {1}
    assert all(p.status == "collected" and p.lease_owner is None for p in parcels(setup).values())


def test_leases_of_another_poller_are_respected_until_they_expire(db: Database, clock: ManualClock) -> None:
    add_parcels(db, 2)
    with db.session() as s:
        p = s.exec(select(Parcel).where(Parcel.tracking_number == "ZT00000")).one()
        p.lease_owner, p.lease_until = "other", T0 + timedelta(minutes=5)
        s.add(p)
    adapter = make_adapter()
    assert cycle(poller_for(db, clock, adapter)).total("answered") == 1
    clock.advance(minutes=6)
    assert cycle(poller_for(db, clock, adapter)).total("answered") == 1
    assert adapter.numbers["ZT00000"] == 1


def test_cancelled_cycle_releases_its_leases(db: Database, clock: ManualClock) -> None:
    add_parcels(db, 3)
    started = asyncio.Event()

    class Hanging(make_adapter()):  # type: ignore[misc]
        async def track(self, queries):  # type: ignore[no-untyped-def]
            started.set()
            await asyncio.Event().wait()

    Hanging.name = "fake"
    poller = poller_for(db, clock, Hanging)

    async def go() -> None:
        task = asyncio.create_task(poller.run_cycle())
        await started.wait()
        assert any(p.lease_owner for p in parcels(db).values())
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await poller.aclose()

    asyncio.run(go())
    assert all(p.lease_owner is None for p in parcels(db).values())
    assert all(p.next_poll_at == T0 for p in parcels(db).values())  # still due


def test_status_changes_are_logged_once_not_every_poll(db: Database, clock: ManualClock) -> None:
    add_parcels(db, 1)
    adapter = make_adapter()
    with capture_logs() as logs:
        cycle(poller_for(db, clock, adapter))
        clock.advance(hours=3)
        cycle(poller_for(db, clock, adapter))
    changes = [e for e in logs if e["event"] == "parcel.status_changed"]
    assert len(changes) == 1 and changes[0]["new"] == "collected"
