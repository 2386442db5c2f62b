"""Courier scorecard: pure counting, the store query behind it, and how each format shows it."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta

import pytest

from tests.report.helpers import NOW, add_parcel, clear, flag
from tests.support import make_settings
from watcher.report import generate, render
from watcher.report.data import load_scorecard_rows
from watcher.report.scorecard import (
    CohortCount, Delivery, FlagCount, PollTransition, ProviderTotals, ScoreInput, build_scorecard,
)
from watcher.store.db import Database
from watcher.store.models import Parcel, PollLog

SINCE = NOW - timedelta(days=30)


def tally(parcels: list[tuple[str, str | None, float | None, tuple[str, ...]]]) -> ScoreInput:
    """What the store query returns for these parcels: (courier, province, delivery hours or None, flags)."""
    cohort: Counter = Counter()
    delivered: Counter = Counter()
    flags: Counter = Counter()
    for courier, province, hours, names in parcels:
        cohort[courier, province] += 1
        delivered[courier, province] += hours is not None
        for name in names:
            flags[courier, province, name] += 1
    return ScoreInput(
        cohort=[CohortCount(c, p, n, delivered[c, p]) for (c, p), n in cohort.items()],
        flags=[FlagCount(c, p, f, n) for (c, p, f), n in flags.items()],
        deliveries=[Delivery(c, p, h) for c, p, h, _ in parcels if h is not None],
    )


def test_rates_medians_and_province_threshold() -> None:
    parcels = (
        [("zhongtong", "浙江省", h, ()) for h in (20.0, 30.0, 40.0)]
        + [("zhongtong", "浙江省", None, ("stalled",)), ("zhongtong", "西藏自治区", None, ("unreachable", "stalled"))]
        + [("yuantong", "浙江省", 50.0, ("exception",)), ("yuantong", None, None, ())]
    )
    card = build_scorecard(tally(parcels), since=SINCE, until=NOW, days=30, min_parcels=3)
    zt, yt = card.couriers  # most parcels first
    assert (zt.carrier, zt.parcels, zt.delivered, zt.median_delivery_hours) == ("zhongtong", 5, 3, 30.0)
    assert zt.rates == {"stalled": 0.4, "unreachable": 0.2, "exception": 0.0, "not_collected": 0.0}
    # 西藏 has one parcel: under min_parcels, so no line of its own (it still counts for the courier)
    assert [(p.province, p.parcels, p.median_delivery_hours) for p in zt.provinces] == [("浙江省", 4, 30.0)]
    assert zt.provinces[0].rates["stalled"] == 0.25
    assert (yt.parcels, yt.delivered, yt.median_delivery_hours, yt.rates["exception"]) == (2, 1, 50.0, 0.5)
    assert yt.provinces == ()


def test_a_delivery_before_its_collection_is_left_out_of_the_median() -> None:
    data = tally([("zhongtong", None, -3.0, ()), ("zhongtong", None, 10.0, ())])
    card = build_scorecard(data, since=SINCE, until=NOW, days=30, min_parcels=1)
    assert card.couriers[0].median_delivery_hours == 10.0 and card.couriers[0].delivered == 2


def test_provider_outages_are_runs_of_failed_cycles() -> None:
    def t(minute: int, failing: bool, provider: str = "kuaidi100") -> PollTransition:
        return PollTransition(provider, SINCE + timedelta(minutes=minute), failing)

    data = ScoreInput(
        providers=[ProviderTotals("kuaidi100", 8, 16, 320, 160, 4, "auth 13800001111"),
                   ProviderTotals("kdniao", 1, 2, 40, 0, 0, None)],
        # cycles at minutes 0..6 and 10; failing at 1-2, 5 and 10: only the changes come from the store
        transitions=[t(1, True), t(3, False), t(5, True), t(6, False), t(10, True)],
    )
    card = build_scorecard(data, since=SINCE, until=SINCE + timedelta(minutes=70), days=30, min_parcels=1)
    kd100 = next(p for p in card.providers if p.provider == "kuaidi100")
    assert (kd100.cycles, kd100.requests, kd100.parcels, kd100.failed) == (8, 16, 320, 160)
    assert (kd100.failed_cycles, kd100.outages, kd100.ongoing) == (4, 3, True)
    # the last outage is still going at the end of the window: 60 minutes, longer than the 2-minute one
    assert kd100.longest_outage_hours == 1.0
    assert kd100.last_error == "auth 138****1111"  # masked like any text
    kdniao = next(p for p in card.providers if p.provider == "kdniao")
    assert (kdniao.outages, kdniao.longest_outage_hours, kdniao.ongoing, kdniao.last_error) == (0, 0.0, False, None)


def _add(db: Database, number: str, *, shipped: datetime | None, created: datetime, courier: str = "zhongtong",
         province: str = "浙江省", collected: datetime | None = None, delivered: datetime | None = None) -> None:
    with db.session() as s:
        s.add(Parcel(courier=courier, tracking_number=number, province=province, shipped_at=shipped,
                     created_at=created, updated_at=created, collected_at=collected, delivered_at=delivered,
                     status="delivered" if delivered else "in_transit"))


def test_store_query_takes_parcels_shipped_in_the_window_with_every_flag_they_had(db: Database) -> None:
    _add(db, "IN1", shipped=NOW - timedelta(days=3), created=NOW - timedelta(days=60),
         collected=NOW - timedelta(days=3), delivered=NOW - timedelta(days=1))
    _add(db, "IN2", shipped=None, created=NOW - timedelta(days=10))  # no ship time: when it was added
    _add(db, "OLD", shipped=NOW - timedelta(days=31), created=NOW - timedelta(days=31))
    _add(db, "LATER", shipped=NOW + timedelta(hours=1), created=NOW)  # after a past report's as_of
    pid = add_parcel(db, "FL1", [flag("stalled", "transit_stall"), flag("exception", "refused")],
                     raised_at=NOW - timedelta(days=2))
    clear(db, pid, "stalled", NOW - timedelta(days=1))  # cleared since: it still happened
    with db.session() as s:
        for minute, error in ((0, None), (1, "HTTP 502"), (2, "HTTP 503"), (3, None), (4, None), (5, "timeout")):
            s.add(PollLog(provider="kuaidi100", owner="w", started_at=NOW - timedelta(hours=5, minutes=-minute),
                          requests=1, parcels=10, failed=10 if error else 0, error=error))
        s.add(PollLog(provider="kuaidi100", owner="w", started_at=NOW - timedelta(days=40), error="too old"))
    data = load_scorecard_rows(db, since=SINCE, until=NOW)
    assert sum(c.parcels for c in data.cohort) == 3  # IN1, IN2, FL1
    assert sum(c.delivered for c in data.cohort) == 1
    assert sorted((f.flag, f.parcels) for f in data.flags) == [("exception", 1), ("stalled", 1)]
    assert [round(d.hours, 3) for d in data.deliveries] == [48.0]  # computed by the database
    (totals,) = data.providers
    assert (totals.cycles, totals.requests, totals.parcels, totals.failed, totals.failed_cycles, totals.last_error) \
        == (6, 6, 60, 30, 3, "timeout")
    assert [(t.started_at, t.failing) for t in data.transitions] == [
        (NOW - timedelta(hours=5, minutes=-1), True), (NOW - timedelta(hours=5, minutes=-3), False),
        (NOW - timedelta(hours=5, minutes=-5), True)]


@pytest.fixture
def shop(db: Database) -> Database:
    for i in range(4):
        _add(db, f"ZT{i}", shipped=NOW - timedelta(days=4), created=NOW - timedelta(days=4),
             collected=NOW - timedelta(days=4), delivered=NOW - timedelta(days=4) + timedelta(hours=30 + i))
    add_parcel(db, "ZTX", [flag("stalled", "transit_stall")], raised_at=NOW - timedelta(days=1))
    with db.session() as s:
        s.add(PollLog(provider="kuaidi100", owner="w", started_at=NOW - timedelta(hours=2), requests=3, parcels=60))
    return db


SETTINGS = make_settings(report={"scorecard_min_parcels": 2})


def test_every_format_carries_the_scorecard(shop: Database) -> None:
    report = generate(shop, SETTINGS, now=NOW)
    data = json.loads(render(report, "json"))["scorecard"]
    assert data["days"] == 30 and data["min_parcels"] == 2
    (zt,) = data["couriers"]
    assert (zt["carrier"], zt["parcels"], zt["delivered"], zt["median_delivery_hours"]) == ("zhongtong", 5, 4, 31.5)
    assert zt["stalled_rate"] == 0.2 and zt["provinces"][0]["province"] == "浙江省"
    assert data["providers"][0]["requests"] == 3
    text = render(report, "text")
    assert "== Courier scorecard" in text and "zhongtong" in text and "20.0%" in text
    assert "kuaidi100: 1 cycles, 3 requests, 60 parcels asked, 0 unanswered; 0 outage(s)" in text
    html = render(report, "html")
    assert 'data-section="scorecard"' in html and 'data-province="浙江省"' in html and 'data-provider="kuaidi100"' in html


def test_scorecard_days_setting_narrows_the_window(shop: Database) -> None:
    report = generate(shop, make_settings(report={"scorecard_days": 2}), now=NOW)
    assert report.scorecard is not None and report.scorecard.days == 2
    assert [c.parcels for c in report.scorecard.couriers] == []  # ZTX was added 4 days ago, the rest shipped 4 days ago


def test_destinations_compare_couriers_fastest_first() -> None:
    parcels = (
        [("zhongtong", "西藏自治区", h, ()) for h in (150.0, 160.0)] + [("zhongtong", "西藏自治区", None, ("stalled",))]
        + [("ems", "西藏自治区", h, ()) for h in (100.0, 110.0, 120.0)]
        + [("yuantong", "西藏自治区", None, ()) for _ in range(3)]  # nothing delivered yet: last
        + [("zhongtong", "浙江省", h, ()) for h in (20.0, 30.0, 40.0)]  # one courier only: nothing to compare
    )
    card = build_scorecard(tally(parcels), since=SINCE, until=NOW, days=30, min_parcels=3)
    [(province, scores)] = card.by_destination()
    assert province == "西藏自治区"
    assert [(s.carrier, s.median_delivery_hours) for s in scores] == [("ems", 110.0), ("zhongtong", 155.0),
                                                                       ("yuantong", None)]


def test_destinations_in_text_and_html(db: Database) -> None:
    for courier, hours in (("ems", 100), ("zhongtong", 150)):
        for i in range(2):
            _add(db, f"{courier}{i}", shipped=NOW - timedelta(days=10), created=NOW - timedelta(days=10),
                 province="西藏自治区", courier=courier, collected=NOW - timedelta(days=9),
                 delivered=NOW - timedelta(days=9) + timedelta(hours=hours))
    report = generate(db, SETTINGS, now=NOW)
    text = render(report, "text")
    assert "  西藏自治区: ems 100 h (stalled 0.0%), zhongtong 150 h (stalled 0.0%)" in text
    html = render(report, "html")
    assert 'data-destination="西藏自治区"' in html and html.index('data-carrier="ems"') < html.index(
        'data-carrier="zhongtong"', html.index('data-destination'))
