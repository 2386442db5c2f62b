"""The poller's queries: claim due parcels with a lease, write outcomes in bulk, release.

Portable SQL: a claim is one ``UPDATE … WHERE id IN (SELECT … LIMIT n) AND lease free``
statement, atomic on SQLite and re-checked row by row on PostgreSQL, so two
pollers never hold the same parcel.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, insert, or_, select, update
from sqlalchemy.engine import Connection

from carriers.base import Checkpoint as TrackedCheckpoint
from watcher.store.db import Database, in_chunks
from watcher.store.models import FLAG_SEP, Checkpoint, FlagEvent, Notice, Parcel, PollLog

__all__ = [
    "ClaimedParcel",
    "ParcelUpdate",
    "claim_due",
    "release",
    "write_updates",
    "checkpoint_hash",
    "record_poll_log",
    "last_poll_error",
    "flags_value",
    "insert_ignoring_duplicates",
]

P = Parcel.__table__
C = Checkpoint.__table__
F = FlagEvent.__table__
N = Notice.__table__


@dataclass(frozen=True, slots=True)
class ClaimedParcel:
    id: int
    courier: str
    tracking_number: str
    buyer_phone: str | None
    shipped_at: datetime | None
    province: str | None
    city: str | None
    district: str | None
    status: str
    last_queried_at: datetime | None
    poll_failures: int
    created_at: datetime
    flags: str

    def flag_list(self) -> list[str]:
        return [f for f in self.flags.split(FLAG_SEP) if f]


@dataclass(slots=True)
class ParcelUpdate:
    """Everything one poll learned about one parcel."""

    parcel_id: int
    values: dict[str, object]  # parcel columns to set
    checkpoints: Sequence[TrackedCheckpoint] = ()
    provider: str = ""
    #: flag episodes that start now: dicts of FlagEvent columns (flag, code, reason, since, level)
    raised: Sequence[dict[str, object]] = ()
    #: flags whose open episode ends now
    cleared: Sequence[str] = ()
    #: stall escalation level of a flag that stays raised
    levels: dict[str, int] = field(default_factory=dict)
    #: notices the verdict calls for: (kind, idempotency key, reason); the outbox keeps one per key
    notices: Sequence[tuple[str, str, str]] = ()
    new_checkpoints: int = field(default=0)  # filled in by write_updates


def _lease_free(now: datetime):  # type: ignore[no-untyped-def]
    return or_(P.c.lease_until.is_(None), P.c.lease_until < now)


def claim_due(
    db: Database,
    *,
    token: str,
    now: datetime,
    cutoff: datetime,
    lease_until: datetime,
    limit: int,
    all_after_id: int | None = None,
) -> list[ClaimedParcel]:
    """Lease up to ``limit`` parcels for ``token``.

    Normal cycles take parcels with ``next_poll_at <= cutoff`` (oldest first);
    ``all_after_id`` (``poll --all``) takes every non-terminal parcel not asked about
    since ``cutoff`` (the cycle's start), by id.
    """
    if all_after_id is None:
        due = and_(P.c.next_poll_at.is_not(None), P.c.next_poll_at <= cutoff)
        order = (P.c.next_poll_at, P.c.id)
    else:
        due = and_(
            P.c.next_poll_at.is_not(None),
            P.c.id > all_after_id,
            or_(P.c.last_queried_at.is_(None), P.c.last_queried_at < cutoff),
        )
        order = (P.c.id,)
    candidates = select(P.c.id).where(due, _lease_free(now)).order_by(*order).limit(limit)
    # One statement: atomic on SQLite; on PostgreSQL a row another poller leased meanwhile
    # fails the re-checked lease condition and is skipped.
    stmt = (
        update(P)
        .where(P.c.id.in_(candidates.scalar_subquery()), _lease_free(now))
        .values(lease_owner=token, lease_until=lease_until)
    )
    cols = [
        P.c.id, P.c.courier, P.c.tracking_number, P.c.buyer_phone, P.c.shipped_at, P.c.province,
        P.c.city, P.c.district, P.c.status, P.c.last_queried_at, P.c.poll_failures, P.c.created_at, P.c.flags,
    ]
    with db.engine.begin() as conn:
        conn.execute(stmt)
    with db.engine.connect() as conn:
        rows = conn.execute(select(*cols).where(P.c.lease_owner == token).order_by(P.c.id)).all()
    return [ClaimedParcel(*row) for row in rows]


def release(db: Database, tokens: Iterable[str], *, values: dict[str, object] | None = None) -> int:
    """Drop every lease still held under ``tokens`` (shutdown, skipped parcels)."""
    tokens = list(tokens)
    if not tokens:
        return 0
    with db.engine.begin() as conn:
        result = conn.execute(
            update(P).where(P.c.lease_owner.in_(tokens)).values(lease_owner=None, lease_until=None, **(values or {}))
        )
    return result.rowcount or 0


def checkpoint_hash(cp: TrackedCheckpoint) -> str:
    """Content identity of a checkpoint: same time, place and text is the same scan."""
    key = f"{cp.time.isoformat()}\x1f{cp.location.strip()}\x1f{' '.join(cp.text.split())}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()


def _existing_hashes(conn: Connection, parcel_ids: Sequence[int]) -> set[tuple[int, str]]:
    found: set[tuple[int, str]] = set()
    for chunk in in_chunks(parcel_ids):
        rows = conn.execute(select(C.c.parcel_id, C.c.content_hash).where(C.c.parcel_id.in_(chunk)))
        found.update((r[0], r[1]) for r in rows)
    return found


def write_updates(db: Database, updates: Sequence[ParcelUpdate], *, token: str, now: datetime) -> None:
    """Store new checkpoints (bulk, deduplicated by content) and parcel changes in one transaction.

    Parcel rows are only written while ``token`` still holds their lease.
    """
    if not updates:
        return
    with db.engine.begin() as conn:
        with_cps = [u.parcel_id for u in updates if u.checkpoints]
        seen = _existing_hashes(conn, with_cps) if with_cps else set()
        new_rows: list[dict[str, object]] = []
        for u in updates:
            count = 0
            for cp in u.checkpoints:
                h = checkpoint_hash(cp)
                if (u.parcel_id, h) in seen:
                    continue
                seen.add((u.parcel_id, h))
                count += 1
                new_rows.append(
                    {
                        "parcel_id": u.parcel_id,
                        "time": cp.time,
                        "location": cp.location[:200],
                        "text": cp.text,
                        "raw_code": cp.raw_code[:32],
                        "status": cp.status.value if cp.status is not None else None,
                        "provider": u.provider,
                        "content_hash": h,
                        "recorded_at": now,
                    }
                )
            u.new_checkpoints = count
        if new_rows:
            conn.execute(insert(C), new_rows)
        _write_flag_history(conn, updates, now)
        _plan_notices(conn, updates, now)
        # Group by the set of columns so each group is one executemany.
        groups: dict[tuple[str, ...], list[dict[str, object]]] = {}
        for u in updates:
            values = dict(u.values, updated_at=now, lease_owner=None, lease_until=None)
            key = tuple(sorted(values))
            groups.setdefault(key, []).append({**{f"v_{k}": v for k, v in values.items()}, "b_id": u.parcel_id})
        for key, params in groups.items():
            stmt = (
                update(P)
                .where(P.c.id == bindparam("b_id"), P.c.lease_owner == token)
                .values({k: bindparam(f"v_{k}", type_=P.c[k].type) for k in key})
            )
            conn.execute(stmt, params)


def _write_flag_history(conn: Connection, updates: Sequence[ParcelUpdate], now: datetime) -> None:
    raised = [{**row, "parcel_id": u.parcel_id, "raised_at": now} for u in updates for row in u.raised]
    if raised:
        conn.execute(insert(F), raised)
    cleared = [{"b_id": u.parcel_id, "b_flag": flag} for u in updates for flag in u.cleared]
    if cleared:
        conn.execute(
            update(F)
            .where(F.c.parcel_id == bindparam("b_id"), F.c.flag == bindparam("b_flag"), F.c.cleared_at.is_(None))
            .values(cleared_at=now),
            cleared,
        )
    levels = [{"b_id": u.parcel_id, "b_flag": f, "b_level": lvl} for u in updates for f, lvl in u.levels.items()]
    if levels:
        conn.execute(
            update(F)
            .where(F.c.parcel_id == bindparam("b_id"), F.c.flag == bindparam("b_flag"), F.c.cleared_at.is_(None),
                   F.c.level < bindparam("b_level"))
            .values(level=bindparam("b_level")),
            levels,
        )


def _plan_notices(conn: Connection, updates: Sequence[ParcelUpdate], now: datetime) -> None:
    rows = [
        {"parcel_id": u.parcel_id, "kind": kind, "idempotency_key": key, "reason": reason[:300], "state": "queued",
         "created_at": now, "not_before": now, "attempts": 0}
        for u in updates for kind, key, reason in u.notices
    ]
    if not rows:
        return
    keys = [r["idempotency_key"] for r in rows]
    existing = {k for (k,) in conn.execute(select(N.c.idempotency_key).where(N.c.idempotency_key.in_(keys)))}
    fresh = [r for r in rows if r["idempotency_key"] not in existing]
    if fresh:
        insert_ignoring_duplicates(conn, N, fresh, ["idempotency_key"])


def insert_ignoring_duplicates(conn: Connection, table: Any, rows: list[dict[str, object]], keys: list[str]) -> None:
    """INSERT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL (another process may have won the race)."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:  # other databases: the caller filtered known keys; a lost race raises
        conn.execute(insert(table), rows)
        return
    conn.execute(dialect_insert(table).on_conflict_do_nothing(index_elements=keys), rows)


def record_poll_log(db: Database, entry: PollLog) -> None:
    with db.session() as session:
        session.add(entry)


def last_poll_error(db: Database, provider: str) -> str | None:
    """The error of the provider's most recent poll-log row (``None`` if it was healthy)."""
    with db.engine.connect() as conn:
        row = conn.execute(
            select(PollLog.__table__.c.error)
            .where(PollLog.__table__.c.provider == provider)
            .order_by(PollLog.__table__.c.started_at.desc(), PollLog.__table__.c.id.desc())
            .limit(1)
        ).first()
    return row[0] if row else None


def flags_value(flags: Iterable[str]) -> str:
    flags = sorted(set(flags))
    return f"{FLAG_SEP}{FLAG_SEP.join(flags)}{FLAG_SEP}" if flags else ""
