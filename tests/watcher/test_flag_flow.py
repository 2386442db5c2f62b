"""Flags through the poller: stored on the row, history kept, cleared when the parcel moves."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select
from structlog.testing import capture_logs

from carriers.base import Status, TrackingQuery, TrackingResult
from tests.support import T0
from tests.watcher.test_poller import Sleeps, add_parcels, cp, cycle, make_adapter, parcels, poller_for, tracked
from watcher.clock import ManualClock
from watcher.store import queries
from watcher.store.db import Database
from watcher.store.models import FlagEvent


def test_stall_is_raised_then_cleared_with_history(db: Database, clock: ManualClock) -> None:
    moved = {"yes": False}

    def behaviour(q: TrackingQuery, n: int) -> TrackingResult:
        cps = [cp(-100, "【杭州市】已揽收", Status.COLLECTED), cp(-90, "快件已到达【杭州转运中心】")]
        if moved["yes"]:
            cps.append(cp(1, "快件离开【杭州转运中心】已发往【深圳转运中心】"))
        return tracked(q, Status.IN_TRANSIT, *cps)

    add_parcels(db, 1)
    adapter = make_adapter(behaviour=behaviour)
    with capture_logs() as logs:
        cycle(poller_for(db, clock, adapter))
    p = parcels(db)["ZT00000"]
    assert p.flag_list() == ["stalled"]
    assert [e["event"] for e in logs if e["event"].startswith("parcel.")].count("parcel.flagged") == 1
    [flagged] = queries.list_parcels(db, flag="stalled")
    assert flagged.tracking_number == "ZT00000" and queries.list_parcels(db, flag="exception") == []

    clock.advance(hours=3)
    cycle(poller_for(db, clock, adapter))  # still stalled: no second history row
    with db.session() as s:
        assert len(s.exec(select(FlagEvent)).all()) == 1

    moved["yes"] = True
    clock.advance(hours=3)
    with capture_logs() as logs:
        cycle(poller_for(db, clock, adapter))
    assert parcels(db)["ZT00000"].flag_list() == []
    assert any(e["event"] == "parcel.unflagged" for e in logs)
    with db.session() as s:
        [row] = s.exec(select(FlagEvent)).all()
    assert row.flag == "stalled" and row.code == "transit_stall" and row.since == T0 - timedelta(hours=90)
    assert row.raised_at == T0 and row.cleared_at == T0 + timedelta(hours=6)


def test_provider_outage_never_raises_a_stall(db: Database, clock: ManualClock) -> None:
    from watcher.errors import ProviderTransient

    add_parcels(db, 1)
    fresh = make_adapter(behaviour=lambda q, n: tracked(q, Status.IN_TRANSIT, cp(0, "快件已到达【杭州转运中心】")))
    cycle(poller_for(db, clock, fresh))
    clock.advance(days=4)  # the provider is down for days: nothing new is known
    down = make_adapter(raises=[ProviderTransient("HTTP 503")] * 50, batch_size=1)
    for _ in range(3):
        cycle(poller_for(db, clock, down, sleep=Sleeps()), all_parcels=True)
        clock.advance(hours=2)
    assert parcels(db)["ZT00000"].flag_list() == []


def test_not_found_parcels_become_not_collected(db: Database, clock: ManualClock) -> None:
    from carriers.base import Problem, ProblemKind

    add_parcels(db, 1, now=T0 - timedelta(hours=30))
    adapter = make_adapter(behaviour=lambda q, n: TrackingResult(q, problem=Problem(ProblemKind.NOT_FOUND, "查询无结果")))
    cycle(poller_for(db, clock, adapter), all_parcels=True)
    p = parcels(db)["ZT00000"]
    assert p.status == "pending" and p.flag_list() == ["not_collected"]
