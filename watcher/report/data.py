"""The store side of the stall report: one read of everything a report needs, plus
the two writes it owns (acknowledgements, report runs).  No rendering here."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, distinct, extract, func
from sqlmodel import Session, col, select

from watcher.clock import utc

from watcher.errors import InputError
from watcher.store.db import Database, in_chunks
from watcher.report.scorecard import CohortCount, Delivery, FlagCount, PollTransition, ProviderTotals, ScoreInput
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
    """One flagged parcel and what hangs off it, as plain rows (attribute access by column name)."""

    parcel: Any  # a row of PARCEL_COLUMNS
    open_events: dict[str, Any] = field(default_factory=dict)  # flag → its open episode (FlagEvent columns)
    acks: list[Any] = field(default_factory=list)  # Acknowledgement columns, oldest first
    notices: list[Any] = field(default_factory=list)  # Notice columns, oldest first
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


#: the parcel columns a report shows: plain rows, not ORM objects (thousands of flagged parcels)
PARCEL_COLUMNS = (
    Parcel.id, Parcel.courier, Parcel.tracking_number, Parcel.order_id, Parcel.buyer_name, Parcel.buyer_phone,
    Parcel.province, Parcel.city, Parcel.status, Parcel.flags, Parcel.verdict, Parcel.updated_at,
    Parcel.last_checkpoint_at, Parcel.last_checkpoint_text, Parcel.last_checkpoint_location, Parcel.last_polled_at,
)


def load_snapshot(db: Database, *, as_of: datetime, day_start: datetime) -> Snapshot:
    """Flagged parcels with their open episodes, acknowledgements, notices and newest checkpoint
    texts; episodes resolved in [day_start, as_of]; recent failed notices; the last report run."""
    with db.session() as s:
        parcels = s.exec(select(*PARCEL_COLUMNS).where(Parcel.flags != "").order_by(col(Parcel.id))).all()
        rows = {p.id: ParcelRows(p) for p in parcels}
        texts: dict[int, list[str]] = defaultdict(list)
        for ids in in_chunks(list(rows)):
            for e in s.exec(select(FlagEvent.parcel_id, FlagEvent.flag, FlagEvent.code, FlagEvent.reason,
                                   FlagEvent.raised_at, FlagEvent.level)
                            .where(col(FlagEvent.parcel_id).in_(ids), col(FlagEvent.cleared_at).is_(None))
                            .order_by(col(FlagEvent.raised_at), col(FlagEvent.id))):
                rows[e.parcel_id].open_events[e.flag] = e
            for a in s.exec(select(Acknowledgement.parcel_id, Acknowledgement.flag, Acknowledgement.level,
                                   Acknowledgement.note, Acknowledgement.by, Acknowledgement.created_at)
                            .where(col(Acknowledgement.parcel_id).in_(ids), Acknowledgement.created_at <= as_of)
                            .order_by(col(Acknowledgement.created_at), col(Acknowledgement.id))):
                rows[a.parcel_id].acks.append(a)
            for n in s.exec(select(Notice.parcel_id, Notice.kind, Notice.channel, Notice.state, Notice.sent_at,
                                   Notice.created_at)
                            .where(col(Notice.parcel_id).in_(ids), Notice.created_at <= as_of)
                            .order_by(col(Notice.created_at), col(Notice.id))):
                rows[n.parcel_id].notices.append(n)
            for pid, text in s.exec(select(Checkpoint.parcel_id, Checkpoint.text)
                                    .where(col(Checkpoint.parcel_id).in_(ids))
                                    .order_by(col(Checkpoint.parcel_id), col(Checkpoint.time).desc())):
                if len(texts[pid]) < CHECKPOINTS_SCANNED:
                    texts[pid].append(text)
        for pid, found in texts.items():
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
    reached: dict[int, datetime] = {}
    for ids in in_chunks(sorted({n.parcel_id for n, _ in found})):
        reached.update(s.exec(
            select(Notice.parcel_id, func.max(Notice.sent_at))
            .where(col(Notice.parcel_id).in_(ids), col(Notice.state).in_(("sent", "delivered")),
                   Notice.sent_at <= as_of)
            .group_by(col(Notice.parcel_id))
        ).all())
    return [(n, p, utc(reached[n.parcel_id]) if reached.get(n.parcel_id) else None) for n, p in found]


def _hours_between(later: Any, earlier: Any, dialect: str) -> Any:
    """SQL for the hours between two stored (naive UTC) timestamps: computed by the database,
    so a month of deliveries comes back as numbers, not as pairs of datetimes to convert."""
    if dialect == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 24.0
    return extract("epoch", later - earlier) / 3600.0  # PostgreSQL and most others


def load_scorecard_rows(db: Database, *, since: datetime, until: datetime) -> ScoreInput:
    """The courier scorecard's numbers for parcels shipped in [since, until] and the poll log of the period.

    Counted and grouped by the database; only delivered parcels' two milestone times
    and the poll cycles where a provider's health changed come back row by row."""
    shipped = func.coalesce(Parcel.shipped_at, Parcel.created_at)
    window = (shipped >= since) & (shipped <= until)
    by_place = (col(Parcel.courier), col(Parcel.province))
    failing = case((col(PollLog.error).is_not(None), 1), else_=0)
    in_period = (PollLog.started_at >= since) & (PollLog.started_at <= until)
    with db.session() as s:
        # one pass over the month's parcels: counts per (courier, province) and the delivery times
        counts: dict[tuple[str, str | None], list[int]] = defaultdict(lambda: [0, 0])
        deliveries: list[Delivery] = []
        hours = _hours_between(col(Parcel.delivered_at), col(Parcel.collected_at), db.engine.dialect.name)
        for courier, province, delivered, h in s.exec(
                select(Parcel.courier, Parcel.province, col(Parcel.delivered_at).is_not(None), hours).where(window)):
            count = counts[courier, province]
            count[0] += 1
            if delivered:
                count[1] += 1
                if h is not None:
                    deliveries.append(Delivery(courier, province, float(h)))
        cohort = [CohortCount(courier, province, n, d) for (courier, province), (n, d) in counts.items()]
        flags = [FlagCount(*row) for row in s.exec(
            select(Parcel.courier, Parcel.province, FlagEvent.flag, func.count(distinct(col(Parcel.id))))
            .join(FlagEvent, FlagEvent.parcel_id == Parcel.id)  # type: ignore[arg-type]
            .where(window).group_by(*by_place, col(FlagEvent.flag)))]
        last_errors = (
            select(PollLog.provider, PollLog.error,
                   func.row_number().over(partition_by=col(PollLog.provider),
                                          order_by=(col(PollLog.started_at).desc(), col(PollLog.id).desc()))
                   .label("newest"))
            .where(in_period, col(PollLog.error).is_not(None)).subquery()
        )
        errors = dict(s.exec(select(last_errors.c.provider, last_errors.c.error).where(last_errors.c.newest == 1)).all())
        providers = [
            ProviderTotals(name, cycles, int(requests or 0), int(parcels or 0), int(failed or 0),
                           int(failed_cycles or 0), errors.get(name))
            for name, cycles, requests, parcels, failed, failed_cycles in s.exec(
                select(PollLog.provider, func.count(), func.sum(PollLog.requests), func.sum(PollLog.parcels),
                       func.sum(PollLog.failed), func.sum(failing))
                .where(in_period).group_by(col(PollLog.provider)))
        ]
        cycles = (
            select(PollLog.provider, PollLog.started_at, failing.label("failing"),
                   func.lag(failing).over(partition_by=col(PollLog.provider),
                                          order_by=(col(PollLog.started_at), col(PollLog.id))).label("before"))
            .where(in_period).subquery()
        )
        transitions = [
            PollTransition(provider, started_at, bool(failed))
            for provider, started_at, failed in s.exec(
                select(cycles.c.provider, cycles.c.started_at, cycles.c.failing)
                .where(cycles.c.failing != func.coalesce(cycles.c.before, 0))
                .order_by(cycles.c.provider, cycles.c.started_at))
        ]
    return ScoreInput(cohort, flags, deliveries, providers, transitions)


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
