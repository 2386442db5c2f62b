"""Courier scorecard: pure counting, the store query behind it, and how each format shows it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from tests.report.helpers import NOW, add_parcel, clear, flag
from tests.support import make_settings
from watcher.report import generate, render
from watcher.report.data import load_scorecard_rows
from watcher.report.scorecard import PollRow, ScoreParcel, build_scorecard
from watcher.store.db import Database
from watcher.store.models import Parcel, PollLog

SINCE = NOW - timedelta(days=30)


def sp(courier: str, province: str | None, delivery_hours: float | None, *flags: str) -> ScoreParcel:
    collected = NOW - timedelta(days=5)
    delivered = None if delivery_hours is None else collected + timedelta(hours=delivery_hours)
    return ScoreParcel(courier, province, collected, delivered, frozenset(flags))


def poll(minute: int, error: str | None = None, provider: str = "kuaidi100") -> PollRow:
    return PollRow(provider, SINCE + timedelta(minutes=minute), 2, 40, 40 if error else 0, error)


def test_rates_medians_and_province_threshold() -> None:
    parcels = (
        [sp("zhongtong", "浙江省", h) for h in (20, 30, 40)]
        + [sp("zhongtong", "浙江省", None, "stalled"), sp("zhongtong", "西藏自治区", None, "unreachable", "stalled")]
        + [sp("yuantong", "浙江省", 50, "exception"), sp("yuantong", None, None)]
    )
    card = build_scorecard(parcels, [], since=SINCE, until=NOW, days=30, min_parcels=3)
    zt, yt = card.couriers  # most parcels first
    assert (zt.carrier, zt.parcels, zt.delivered, zt.median_delivery_hours) == ("zhongtong", 5, 3, 30.0)
    assert zt.rates == {"stalled": 0.4, "unreachable": 0.2, "exception": 0.0, "not_collected": 0.0}
    # 西藏 has one parcel: under min_parcels, so no line of its own (it still counts for the courier)
    assert [(p.province, p.parcels, p.median_delivery_hours) for p in zt.provinces] == [("浙江省", 4, 30.0)]
    assert zt.provinces[0].rates["stalled"] == 0.25
    assert (yt.parcels, yt.delivered, yt.median_delivery_hours, yt.rates["exception"]) == (2, 1, 50.0, 0.5)
    assert yt.provinces == ()


def test_a_delivery_before_its_collection_is_left_out_of_the_median() -> None:
    bad = ScoreParcel("zhongtong", None, NOW, NOW - timedelta(hours=3), frozenset())
    card = build_scorecard([bad, sp("zhongtong", None, 10)], [], since=SINCE, until=NOW, days=30, min_parcels=1)
    assert card.couriers[0].median_delivery_hours == 10.0 and card.couriers[0].delivered == 2


def test_provider_outages_are_runs_of_failed_cycles() -> None:
    rows = [poll(0), poll(1, "HTTP 502"), poll(2, "HTTP 502"), poll(3), poll(4), poll(5, "timeout"), poll(6),
            poll(10, "auth 13800001111"), poll(0, provider="kdniao")]
    card = build_scorecard([], rows, since=SINCE, until=SINCE + timedelta(minutes=70), days=30, min_parcels=1)
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
        s.add(PollLog(provider="kuaidi100", owner="w", started_at=NOW - timedelta(days=1), error="HTTP 502"))
        s.add(PollLog(provider="kuaidi100", owner="w", started_at=NOW - timedelta(days=40)))
    parcels, polls = load_scorecard_rows(db, since=SINCE, until=NOW)
    found = {p.courier + p.province + str(sorted(p.flags)): p for p in parcels}
    assert len(parcels) == 3  # IN1, IN2, FL1
    assert {p.delivered_at is not None for p in parcels} == {True, False}
    assert "zhongtong浙江省['exception', 'stalled']" in found
    assert [(r.provider, r.error) for r in polls] == [("kuaidi100", "HTTP 502")]


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
