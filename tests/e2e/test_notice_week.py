"""A simulated week of many parcels on the simulated carrier, notices sent through the
real Twilio SMS channel to a local Twilio-compatible server, on a manual clock:
every notice at most once, none forbidden, none inside quiet hours, opted-out
buyers untouched, and the notices each case calls for are there."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import select

from tests.fakes import twilio as tw
from tests.support import make_settings
from watcher.channels import build_channels
from watcher.clock import ManualClock
from watcher.dispatcher import Dispatcher
from watcher.followups import plan_daily_follow_ups
from watcher.intake import import_csv
from watcher.poller import Poller
from watcher.store.db import open_database
from watcher.store.models import Notice, OptOut, Parcel

SH = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 20, 6, 0, tzinfo=SH)
CITIES = [("广东省", "深圳市"), ("浙江省", "杭州市"), ("四川省", "成都市"), ("北京市", "北京市"), ("湖北省", "武汉市"),
          ("新疆维吾尔自治区", "乌鲁木齐市"), ("陕西省", "西安市"), ("江苏省", "南京市")]
SCENARIOS = ["normal", "normal", "normal", "locker", "stall_transit", "stall_city", "unreachable",
             "exception_refused", "failed_attempt_then_delivered", "remote_slow", "never_collected", "lost"]
OPTED_OUT = {"+8613900000003", "+8613900000017"}  # replied 退订 before: never texted
STOPS_ON_FIRST_SMS = "+8613900000008"  # Twilio answers 21610 (the buyer sent STOP to Twilio directly)


def test_a_week_of_notices(tmp_path: Path) -> None:
    clock = ManualClock(START)
    sms = tw.TwilioFake(clock=clock)
    sms.opt_out(STOPS_ON_FIRST_SMS)
    rows = ["carrier,tracking_number,buyer_phone,province,city,shipped_at"]
    for i in range(72):
        province, city = CITIES[i % len(CITIES)]
        scenario = SCENARIOS[i % len(SCENARIOS)].replace("_", "-").upper()
        shipped = (START - timedelta(hours=10) + timedelta(hours=i % 20)).strftime("%Y-%m-%d %H:%M")
        rows.append(f"中通,SIM-{scenario}-W{i:03d},139{i:08d},{province},{city},{shipped}")
    csv = tmp_path / "week.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")

    with tw.serve_in_thread(sms) as t_url:
        settings = make_settings(
            shop={"name": "小鲸鱼旗舰店", "sms_signature": "小鲸鱼"},
            database={"url": f"sqlite:///{tmp_path / 'week.db'}"},
            tracking={"provider": "simulated"},
            providers={"simulated": {"seed": 11}},
            twilio={"account_sid": tw.DEFAULT_ACCOUNT_SID, "auth_token": tw.DEFAULT_AUTH_TOKEN,
                    "from_number": "+15005550006", "base_url": t_url},
            notices={"channels": ["sms"], "daily_cap": 3, "reconcile_after_seconds": 300},
        )
        db = open_database(settings.database.url)
        report = import_csv(csv, db=db, shop_tz=SH, now=clock.now())
        assert report.added == 72 and not report.errors
        with db.session() as s:
            for phone in OPTED_OUT:
                s.add(OptOut(channel="sms", address=phone, source="inbound_stop", created_at=clock.now()))

        poller = Poller(db, settings, clock=clock)
        dispatcher = Dispatcher(db, settings, build_channels(settings, clock=clock), clock=clock)
        first_seen: dict[str, str] = {}

        async def week() -> None:
            for hour in range(7 * 24):
                if hour % 2 == 0:
                    await poller.run_cycle()
                    with db.session() as s:
                        for p in s.exec(select(Parcel)).all():
                            first_seen.setdefault(p.tracking_number, p.status)
                local = clock.now().astimezone(SH)
                if local.hour == 10:
                    plan_daily_follow_ups(db, settings, clock.now())
                await dispatcher.run_once()
                clock.advance(hours=1)
            await poller.aclose()
            await dispatcher.aclose()

        asyncio.run(week())

    with db.session() as s:
        notices = s.exec(select(Notice)).all()
        parcels = {p.id: p for p in s.exec(select(Parcel)).all()}
        opt_outs = {(o.channel, o.address) for o in s.exec(select(OptOut)).all()}

    sent = [n for n in notices if n.state in ("sent", "delivered")]
    by_sid = {n.provider_message_id: n for n in sent}
    # Exactly once: the server's messages and the outbox agree one to one.
    assert len(sms.messages) == len(sent) == len(by_sid) > 50
    assert {m["sid"] for m in sms.messages} == set(by_sid)
    assert len({n.idempotency_key for n in notices}) == len(notices)
    # Never inside quiet hours (21:00–08:00 shop time), judged by the provider's own clock.
    for m in sms.messages:
        hour = m["_created"].astimezone(SH).hour
        assert 8 <= hour < 21, (hour, m["to"])
    # Opted-out buyers untouched; a 21610 is remembered and that buyer never tried again.
    posted_to = Counter(r["form"].get("To") for r in sms.requests if r["method"] == "POST")
    assert not (OPTED_OUT & posted_to.keys())
    assert posted_to[STOPS_ON_FIRST_SMS] == 1 and ("sms", STOPS_ON_FIRST_SMS) in opt_outs
    # None forbidden: milestones only while current; nothing for parcels first seen delivered.
    per_parcel: dict[str, Counter[str]] = defaultdict(Counter)
    sent_at: dict[tuple[str, str], datetime] = {}
    for n in sent:
        parcel = parcels[n.parcel_id]
        per_parcel[parcel.tracking_number][n.kind] += 1
        sent_at[(parcel.tracking_number, n.kind)] = n.sent_at  # type: ignore[assignment]
        assert first_seen[parcel.tracking_number] != "delivered"
        if n.kind in ("dispatch", "arrived_city"):
            assert n.sent_at is not None
    for number, kinds in per_parcel.items():
        assert kinds["dispatch"] <= 1 and kinds["arrived_city"] <= 1, (number, kinds)
        if "UNREACHABLE" in number:
            assert kinds["unreachable"] == 1, (number, kinds)
            if kinds["arrived_city"]:  # only while it was not yet known to be unreachable
                assert sent_at[(number, "arrived_city")] < sent_at[(number, "unreachable")]
        if "STALL" in number:
            assert kinds["delay"] == 1, (number, kinds)
    per_case = Counter(n.idempotency_key.rsplit(":", 1)[0] for n in sent if n.kind == "follow_up")  # drop the day
    assert per_case and max(per_case.values()) <= settings.notices.follow_up_max
    # And what each case calls for is there (buyers that can be texted).
    reachable = [p for p in parcels.values() if p.buyer_phone not in OPTED_OUT | {STOPS_ON_FIRST_SMS}]
    normal = [p for p in reachable if "-NORMAL-" in p.tracking_number]
    assert all(per_parcel[p.tracking_number]["dispatch"] + per_parcel[p.tracking_number]["arrived_city"] >= 1
               for p in normal)
    # Nothing is left behind: every notice ended sent, suppressed (superseded) or failed with a reason.
    assert {n.state for n in notices} <= {"sent", "delivered", "suppressed", "failed", "deferred"}
    assert all(n.error for n in notices if n.state == "failed")
