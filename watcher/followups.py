"""The daily follow-up: once a day at ``notices.follow_up_at`` (shop time), every open
stall, unreachable or exception case gets a follow-up notice, at most
``notices.follow_up_max`` per case.  Run by the daemon's follow-up job."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from watcher.dispatcher import verdict_from_json
from watcher.planner import FOLLOW_UP_FLAGS, plan_follow_up
from watcher.settings import Settings
from watcher.store.db import Database
from watcher.store.models import FLAG_SEP, Notice, Parcel
from watcher.store.polling import insert_ignoring_duplicates

__all__ = ["plan_daily_follow_ups"]


def plan_daily_follow_ups(db: Database, settings: Settings, now: datetime) -> int:
    """Queue today's follow-ups; returns how many new ones were queued (re-running adds none)."""
    today = now.astimezone(settings.shop.tz).date()
    open_case = Parcel.flags.contains(f"{FLAG_SEP}{FOLLOW_UP_FLAGS[0]}{FLAG_SEP}")  # type: ignore[union-attr]
    for flag in FOLLOW_UP_FLAGS[1:]:
        open_case = open_case | Parcel.flags.contains(f"{FLAG_SEP}{flag}{FLAG_SEP}")  # type: ignore[union-attr]
    with db.engine.connect() as conn:
        parcels = conn.execute(select(Parcel.id, Parcel.verdict).where(open_case)).all()
    rows = []
    for parcel_id, verdict_text in parcels:
        verdict = verdict_from_json(verdict_text)
        if verdict is None:
            continue
        case = next((f for f in verdict.flags if f.name in FOLLOW_UP_FLAGS), None)
        if case is None:
            continue
        prefix = f"follow_up:{parcel_id}:{case.since.isoformat()}:"
        with db.engine.connect() as conn:
            sent = conn.execute(
                select(func.count()).select_from(Notice.__table__)
                .where(Notice.idempotency_key.startswith(prefix), Notice.state != "suppressed")  # type: ignore[attr-defined]
            ).scalar() or 0
        planned = plan_follow_up(parcel_id, verdict, sent_for_case=int(sent), today=today, settings=settings.notices)
        if planned is not None:
            rows.append({"parcel_id": parcel_id, "kind": planned.kind, "idempotency_key": planned.idempotency_key,
                         "reason": planned.reason[:300], "state": "queued", "created_at": now, "not_before": now,
                         "attempts": 0})
    if not rows:
        return 0
    with db.engine.begin() as conn:
        before = conn.execute(select(func.count()).select_from(Notice.__table__)).scalar() or 0
        insert_ignoring_duplicates(conn, Notice.__table__, rows, ["idempotency_key"])
        after = conn.execute(select(func.count()).select_from(Notice.__table__)).scalar() or 0
    return int(after - before)
