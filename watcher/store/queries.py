"""Read-side queries for the CLI and reports."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select

from watcher.store.db import Database
from watcher.store.models import FLAG_SEP, Checkpoint, FlagEvent, Notice, Parcel

__all__ = ["list_parcels", "find_parcels", "checkpoints_of", "flag_events_of", "list_notices", "status_counts"]


def list_parcels(
    db: Database, *, flag: str | None = None, status: str | None = None, limit: int | None = None
) -> list[Parcel]:
    stmt = select(Parcel)
    if flag:
        stmt = stmt.where(col(Parcel.flags).contains(f"{FLAG_SEP}{flag}{FLAG_SEP}"))
    if status:
        stmt = stmt.where(Parcel.status == status)
    stmt = stmt.order_by(col(Parcel.id))
    if limit is not None:
        stmt = stmt.limit(limit)
    with db.session() as session:
        return list(session.exec(stmt).all())


def find_parcels(db: Database, number: str, courier: str | None = None) -> list[Parcel]:
    stmt = select(Parcel).where(Parcel.tracking_number == number.strip())
    if courier:
        stmt = stmt.where(Parcel.courier == courier)
    with db.session() as session:
        return list(session.exec(stmt.order_by(col(Parcel.id))).all())


def checkpoints_of(db: Database, parcel_id: int) -> Sequence[Checkpoint]:
    """Newest first."""
    stmt = (
        select(Checkpoint)
        .where(Checkpoint.parcel_id == parcel_id)
        .order_by(col(Checkpoint.time).desc(), col(Checkpoint.id).desc())
    )
    with db.session() as session:
        return list(session.exec(stmt).all())


def flag_events_of(db: Database, parcel_id: int) -> Sequence[FlagEvent]:
    """Oldest first."""
    stmt = select(FlagEvent).where(FlagEvent.parcel_id == parcel_id).order_by(col(FlagEvent.raised_at), col(FlagEvent.id))
    with db.session() as session:
        return list(session.exec(stmt).all())


def list_notices(db: Database, *, state: str | None = None, limit: int | None = None) -> list[tuple[Notice, Parcel]]:
    """Outbox rows with their parcels, oldest first."""
    stmt = select(Notice, Parcel).join(Parcel, Parcel.id == Notice.parcel_id)  # type: ignore[arg-type]
    if state:
        stmt = stmt.where(Notice.state == state)
    stmt = stmt.order_by(col(Notice.created_at), col(Notice.id))
    if limit is not None:
        stmt = stmt.limit(limit)
    with db.session() as session:
        return [(n, p) for n, p in session.exec(stmt).all()]


def status_counts(db: Database) -> dict[str, int]:
    from sqlalchemy import func

    with db.session() as session:
        rows = session.exec(select(Parcel.status, func.count()).group_by(Parcel.status)).all()
    return {status: count for status, count in rows}
