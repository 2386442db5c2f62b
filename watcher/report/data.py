"""The store side of the stall report: one read of everything a report needs, plus
the two writes it owns (acknowledgements, report runs).  No rendering here."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from watcher.clock import utc

from watcher.errors import InputError
from watcher.store.db import Database
from watcher.report.scorecard import PollRow, ScoreParcel
from watcher.store.models import Acknowledgement, Checkpoint, FlagEvent, Notice, Parcel, PollLog, ReportRun

__all__ = [
    "ParcelRows", "Snapshot", "load_snapshot", "load_scorecard_rows", "acknowledge", "record_run", "last_run",
    "CHECKPOINTS_SCANNED", "BUYER_CALL_DAYS",
]

#: newest checkpoints per parcel searched for outlet/courier phone numbers
CHECKPOINTS_SCANNED = 10
#: notices that failed within this many days put the buyer on the "buyers to phone" list
BUYER_CALL_DAYS = 3


@dataclass(slots=True)
class ParcelRows:
    parcel: Parcel
    open_events: dict[str, FlagEvent] = field(default_factory=dict)  # flag → its open episode
    acks: list[Acknowledgement] = field(default_factory=list)  # oldest first
    notices: list[Notice] = field(default_factory=list)  # oldest first
    checkpoint_texts: list[str] = field(default_factory=list)  # newest first


@dataclass(slots=True)
class Snapshot:
    as_of: datetime
    day_start: datetime  # start of the shop-local day of ``as_of``, UTC
    last_report_at: datetime | None
    flagged: list[ParcelRows]
    resolved: list[tuple[FlagEvent, Parcel]]  # episodes cleared in [day_start, as_of]
    #: notices that failed on every channel in the last BUYER_CALL_DAYS (parcels not delivered),
    #: with the time a later notice to the same parcel got through, if one did
    failed_notices: list[tuple[Notice, Parcel, datetime | None]] = field(default_factory=list)


def load_snapshot(db: Database, *, as_of: datetime, day_start: datetime) -> Snapshot:
    with db.session() as s:
        parcels = s.exec(select(Parcel).where(Parcel.flags != "").order_by(col(Parcel.id))).all()
        rows = {p.id: ParcelRows(p) for p in parcels}
        # a subquery, not a list of ids: databases cap bound parameters (SQLite 32766)
        ids = select(Parcel.id).where(Parcel.flags != "")
        if rows:
            for e in s.exec(select(FlagEvent).where(col(FlagEvent.parcel_id).in_(ids), col(FlagEvent.cleared_at).is_(None))
                            .order_by(col(FlagEvent.raised_at), col(FlagEvent.id))):
                if e.parcel_id in rows:  # a poll may flag a parcel between these reads
                    rows[e.parcel_id].open_events[e.flag] = e
            for a in s.exec(select(Acknowledgement).where(col(Acknowledgement.parcel_id).in_(ids),
                                                          Acknowledgement.created_at <= as_of)
                            .order_by(col(Acknowledgement.created_at), col(Acknowledgement.id))):
                if a.parcel_id in rows:
                    rows[a.parcel_id].acks.append(a)
            for n in s.exec(select(Notice).where(col(Notice.parcel_id).in_(ids), Notice.created_at <= as_of)
                            .order_by(col(Notice.created_at), col(Notice.id))):
                if n.parcel_id in rows:
                    rows[n.parcel_id].notices.append(n)
            texts: dict[int, list[str]] = defaultdict(list)
            for pid, text in s.exec(select(Checkpoint.parcel_id, Checkpoint.text)
                                    .where(col(Checkpoint.parcel_id).in_(ids))
                                    .order_by(col(Checkpoint.parcel_id), col(Checkpoint.time).desc())):
                if len(texts[pid]) < CHECKPOINTS_SCANNED:
                    texts[pid].append(text)
            for pid, found in texts.items():
                if pid in rows:
                    rows[pid].checkpoint_texts = found
        resolved = [
            (e, p)
            for e, p in s.exec(
                select(FlagEvent, Parcel).join(Parcel, Parcel.id == FlagEvent.parcel_id)  # type: ignore[arg-type]
                .where(col(FlagEvent.cleared_at).is_not(None), FlagEvent.cleared_at >= day_start,
                       FlagEvent.cleared_at <= as_of)
                .order_by(col(FlagEvent.cleared_at), col(FlagEvent.id))
            ).all()
        ]
        last = s.exec(select(func.max(ReportRun.generated_at)).where(ReportRun.generated_at < as_of)).one()
        failed_notices = _failed_notices(s, as_of)
    return Snapshot(as_of, day_start, utc(last) if last else None, list(rows.values()), resolved, failed_notices)


def _failed_notices(s: Session, as_of: datetime) -> list[tuple[Notice, Parcel, datetime | None]]:
    failed_at = func.coalesce(Notice.last_attempt_at, Notice.created_at)
    found = s.exec(
        select(Notice, Parcel).join(Parcel, Parcel.id == Notice.parcel_id)  # type: ignore[arg-type]
        .where(Notice.state == "failed", failed_at >= as_of - timedelta(days=BUYER_CALL_DAYS), failed_at <= as_of,
               Parcel.status != "delivered")
        .order_by(col(Notice.parcel_id), col(Notice.id))
    ).all()
    if not found:
        return []
    reached = dict(s.exec(
        select(Notice.parcel_id, func.max(Notice.sent_at))
        .where(col(Notice.parcel_id).in_({n.parcel_id for n, _ in found}), col(Notice.state).in_(("sent", "delivered")),
               Notice.sent_at <= as_of)
        .group_by(col(Notice.parcel_id))
    ).all())
    return [(n, p, utc(reached[n.parcel_id]) if reached.get(n.parcel_id) else None) for n, p in found]


def load_scorecard_rows(db: Database, *, since: datetime, until: datetime) -> tuple[list[ScoreParcel], list[PollRow]]:
    """Parcels shipped in [since, until] with the flags they ever had, and poll_log rows of the period.

    Plain column tuples, not ORM objects: the window holds every parcel of a month."""
    shipped = func.coalesce(Parcel.shipped_at, Parcel.created_at)
    window = (shipped >= since) & (shipped <= until)
    with db.session() as s:
        flags: dict[int, set[str]] = defaultdict(set)
        in_window = select(Parcel.id).where(window)
        for pid, flag in s.exec(select(FlagEvent.parcel_id, FlagEvent.flag).distinct()
                                .where(col(FlagEvent.parcel_id).in_(in_window))):
            flags[pid].add(flag)
        parcels = [
            ScoreParcel(courier, province, collected, delivered, frozenset(flags.get(pid, ())))
            for pid, courier, province, collected, delivered in s.exec(
                select(Parcel.id, Parcel.courier, Parcel.province, Parcel.collected_at, Parcel.delivered_at)
                .where(window))
        ]
        polls = [
            PollRow(*row)
            for row in s.exec(
                select(PollLog.provider, PollLog.started_at, PollLog.requests, PollLog.parcels, PollLog.failed,
                       PollLog.error)
                .where(PollLog.started_at >= since, PollLog.started_at <= until)
                .order_by(col(PollLog.provider), col(PollLog.started_at)))
        ]
    return parcels, polls


def acknowledge(
    db: Database, number: str, *, note: str, by: str, now: datetime, carrier: str | None = None,
    flag: str | None = None,
) -> tuple[Parcel, list[Acknowledgement]]:
    """Record that ops handle a flagged parcel: one row per current flag (or ``flag`` only).

    Unknown numbers, ambiguous numbers and parcels without flags are :class:`InputError`."""
    import json

    note = note.strip()
    if not note:
        raise InputError("--note must not be empty")
    with db.session() as s:
        stmt = select(Parcel).where(Parcel.tracking_number == number.strip())
        if carrier:
            stmt = stmt.where(Parcel.courier == carrier)
        found = s.exec(stmt).all()
        if not found:
            raise InputError(f"no parcel with tracking number {number!r}")
        if len(found) > 1:
            raise InputError(f"{number} exists for several couriers ({', '.join(p.courier for p in found)}): add --carrier")
        parcel = found[0]
        flags = parcel.flag_list()
        if not flags:
            raise InputError(f"{parcel.tracking_number} is not flagged: nothing to acknowledge")
        if flag is not None:
            if flag not in flags:
                raise InputError(f"{parcel.tracking_number} is not flagged {flag!r} (flags: {', '.join(flags)})")
            flags = [flag]
        try:
            details = {f.get("flag"): f for f in json.loads(parcel.verdict or "{}").get("flags", [])}
        except (ValueError, AttributeError):
            details = {}
        events = {e.flag: e for e in s.exec(select(FlagEvent).where(FlagEvent.parcel_id == parcel.id,
                                                                     col(FlagEvent.cleared_at).is_(None)))}
        acks = []
        for name in flags:
            level = max(int((details.get(name) or {}).get("level") or 0), events[name].level if name in events else 0)
            ack = Acknowledgement(parcel_id=parcel.id, flag=name, level=level, note=note, by=by.strip(), created_at=now)
            s.add(ack)
            acks.append(ack)
    return parcel, acks


def last_run(db: Database, *, fmt: str | None = None) -> datetime | None:
    """When the last report (of format ``fmt``, or any) was generated."""
    stmt = select(func.max(ReportRun.generated_at))
    if fmt is not None:
        stmt = stmt.where(ReportRun.format == fmt)
    with db.session() as s:
        found = s.exec(stmt).one()
    return utc(found) if found else None


def record_run(db: Database, *, generated_at: datetime, fmt: str, entries: int) -> None:
    with db.session() as s:
        s.add(ReportRun(generated_at=generated_at, format=fmt, entries=entries))
