"""Flagged parcels straight into the store, the way the poller leaves them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from watcher.store.db import Database
from watcher.store.models import Checkpoint, FlagEvent, Notice, Parcel

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 21, 30, tzinfo=SH).astimezone(timezone.utc)


def flag(name: str, code: str, *, hours: float | None = 80.0, threshold: float | None = 72.0, level: int = 1,
         extended_by: tuple[str, ...] = (), extended: float = 0.0, since: datetime | None = None) -> dict:
    return {"flag": name, "code": code, "reason": f"{code}: 派件员电话13812345678", "since": (since or NOW).isoformat(),
            "hours": hours, "threshold_hours": threshold, "extended_hours": extended, "extended_by": list(extended_by),
            "level": level}


def add_parcel(db: Database, number: str, flags: list[dict], *, raised_at: datetime, courier: str = "zhongtong",
               texts: tuple[str, ...] = ("【杭州市】派件员：王师傅 电话：13812345678",), notices: tuple[str, ...] = (),
               name: str = "张三丰", phone: str = "+8613912345678") -> int:
    with db.session() as s:
        p = Parcel(courier=courier, tracking_number=number, order_id=f"O-{number}", buyer_name=name, buyer_phone=phone,
                   city="杭州市", province="浙江省", created_at=raised_at - timedelta(days=3), updated_at=raised_at,
                   status="in_transit", flags="," + ",".join(f["flag"] for f in flags) + "," if flags else "",
                   verdict=json.dumps({"status": "in_transit", "stage": "transit", "flags": flags}),
                   last_checkpoint_at=raised_at - timedelta(hours=80), last_checkpoint_text=texts[0] if texts else None,
                   last_checkpoint_location="杭州市", last_polled_at=raised_at)
        s.add(p)
        s.flush()
        for i, text in enumerate(texts):
            s.add(Checkpoint(parcel_id=p.id, time=raised_at - timedelta(hours=80 + i), text=text, provider="simulated",
                             content_hash=f"{number}-{i}", recorded_at=raised_at))
        for f in flags:
            s.add(FlagEvent(parcel_id=p.id, flag=f["flag"], code=f["code"], reason=f["reason"], since=raised_at,
                            raised_at=raised_at, level=f["level"]))
        for i, state in enumerate(notices):
            s.add(Notice(parcel_id=p.id, kind="delayed", idempotency_key=f"{number}-{i}", state=state, channel="sms",
                         created_at=raised_at, not_before=raised_at))
        return p.id  # type: ignore[return-value]


def clear(db: Database, parcel_id: int, name: str, at: datetime) -> None:
    from sqlmodel import select

    with db.session() as s:
        p = s.get(Parcel, parcel_id)
        flags = [f for f in p.flag_list() if f != name]
        p.flags = "," + ",".join(flags) + "," if flags else ""
        for e in s.exec(select(FlagEvent).where(FlagEvent.parcel_id == parcel_id, FlagEvent.flag == name,
                                                FlagEvent.cleared_at.is_(None))):
            e.cleared_at = at
        s.add(p)


def raise_again(db: Database, parcel_id: int, name: str, code: str, at: datetime) -> None:
    with db.session() as s:
        p = s.get(Parcel, parcel_id)
        p.flags = "," + ",".join(sorted({*p.flag_list(), name})) + ","
        s.add(FlagEvent(parcel_id=parcel_id, flag=name, code=code, reason="again", since=at, raised_at=at, level=1))
        s.add(p)


def add_sample(db: Database) -> None:
    """Three flagged parcels raised a day before NOW: a stall with a holiday extension and a failed
    notice, a parcel both stalled and refused (outlet landline in its text), an out-of-area parcel."""
    y = NOW - timedelta(days=1)
    add_parcel(db, "ZT1", [flag("stalled", "transit_stall", extended=24, extended_by=("holiday",))], raised_at=y,
               notices=("failed",))
    add_parcel(db, "ZT2", [flag("stalled", "transit_stall"), flag("exception", "refused", hours=None)], raised_at=y,
               texts=("网点电话0571-12345678",), name="李四", phone="13700001111")
    add_parcel(db, "YT1", [flag("unreachable", "out_of_area", hours=None, threshold=None, level=0)], raised_at=y,
               courier="yuantong")
