""""Buyers to phone": buyers whose notices failed on every channel and whom nothing reached since."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from tests.report.helpers import NOW, add_parcel, flag
from tests.support import make_settings
from watcher.report import generate, render
from watcher.store.db import Database
from watcher.store.models import Notice, Parcel

SETTINGS = make_settings()


def notice(db: Database, parcel_id: int, kind: str, state: str, at: datetime, *, error: str | None = None) -> None:
    with db.session() as s:
        s.add(Notice(parcel_id=parcel_id, kind=kind, idempotency_key=f"{parcel_id}-{kind}-{state}-{at.isoformat()}",
                     state=state, channel="sms", created_at=at, not_before=at, last_attempt_at=at,
                     sent_at=at if state in ("sent", "delivered") else None, error=error))


def test_only_buyers_nothing_reached_recently_are_listed(db: Database) -> None:
    y = NOW - timedelta(days=1)
    unreached = add_parcel(db, "ZT1", [flag("stalled", "transit_stall")], raised_at=y, phone="+8613911112222")
    notice(db, unreached, "delay", "failed", y, error="21211 invalid 'To' +8613911112222")
    plain = add_parcel(db, "ZT2", [], raised_at=y, name="王五")  # not flagged: its dispatch notice failed
    notice(db, plain, "dispatch", "failed", y - timedelta(hours=5))
    notice(db, plain, "arrived_city", "failed", y - timedelta(hours=1))
    later_ok = add_parcel(db, "ZT3", [], raised_at=y)
    notice(db, later_ok, "dispatch", "failed", y - timedelta(hours=3))
    notice(db, later_ok, "arrived_city", "sent", y)  # got through afterwards
    old = add_parcel(db, "ZT4", [], raised_at=y)
    notice(db, old, "dispatch", "failed", NOW - timedelta(days=4))  # outside the 3-day window
    done = add_parcel(db, "ZT5", [], raised_at=y)
    notice(db, done, "dispatch", "failed", y)
    with db.session() as s:
        p = s.get(Parcel, done)
        p.status = "delivered"
        s.add(p)

    report = generate(db, SETTINGS, now=NOW)
    listed = {b.tracking_number: b for b in report.buyers_to_phone}
    assert list(listed) == ["ZT2", "ZT1"]  # by latest failure, oldest first
    assert listed["ZT2"].kinds == ("dispatch", "arrived_city") and listed["ZT2"].flags == ()
    assert listed["ZT1"].buyer_phone == "+86139****2222" and listed["ZT1"].flags == ("stalled",)
    assert "13911112222" not in listed["ZT1"].error and "21211" in listed["ZT1"].error
    assert report.summary["buyers_to_phone"] == 2

    data = json.loads(render(report, "json"))
    assert [b["tracking_number"] for b in data["buyers_to_phone"]] == ["ZT2", "ZT1"]
    assert data["buyers_to_phone"][1]["buyer"] == {"name": "张*", "phone": "+86139****2222", "city": "杭州市"}
    text = render(report, "text")
    assert "== Buyers to phone: no notice got through (2) ==" in text and "failed: dispatch, arrived_city" in text
    html = render(report, "html")
    assert 'data-buyer-tracking-number="ZT1"' in html and "13911112222" not in html


def test_buyer_phones_can_be_shown_for_calling(db: Database) -> None:
    pid = add_parcel(db, "ZT1", [], raised_at=NOW - timedelta(days=1), phone="+8613911112222")
    notice(db, pid, "dispatch", "failed", NOW - timedelta(hours=2))
    report = generate(db, make_settings(report={"unmask_buyer_phones": True}), now=NOW)
    assert report.buyers_to_phone[0].buyer_phone == "+8613911112222"
    assert 'href="tel:+8613911112222"' in render(report, "html")
    # the name stays shortened, and the flagged entries keep masking the phone
    assert report.buyers_to_phone[0].buyer_name == "张*"
