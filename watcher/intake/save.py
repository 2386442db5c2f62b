"""Upsert validated parcels into the store, in chunks, with portable SQL only."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from watcher.intake.rows import INTAKE_FIELDS, ParcelInput
from watcher.store.db import Database
from watcher.store.models import Parcel

__all__ = ["SaveSummary", "save_parcels", "CHUNK_SIZE"]

#: tracking numbers per IN (...) query and per transaction
CHUNK_SIZE = 500

_TABLE = Parcel.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class SaveSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: SaveSummary) -> SaveSummary:
        return SaveSummary(
            self.added + other.added,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


def _merge(inputs: Sequence[ParcelInput]) -> list[ParcelInput]:
    """One input per (courier, number); a later non-empty value wins over an earlier one."""
    merged: dict[tuple[str, str], ParcelInput] = {}
    for parcel in inputs:
        before = merged.get(parcel.key)
        if before is not None:
            changes = {f: getattr(parcel, f) for f in INTAKE_FIELDS if getattr(parcel, f) is not None}
            parcel = dataclasses.replace(before, **changes)
        merged[parcel.key] = parcel
    return list(merged.values())


def _new_row(parcel: ParcelInput, now: datetime) -> dict[str, Any]:
    row: dict[str, Any] = {f: getattr(parcel, f) for f in INTAKE_FIELDS}
    row.update(
        courier=parcel.courier,
        tracking_number=parcel.tracking_number,
        status="pending",
        flags="",
        poll_failures=0,
        created_at=now,
        updated_at=now,
        next_poll_at=now,
    )
    return row


def _changes(parcel: ParcelInput, stored: Any) -> dict[str, Any]:
    """Intake fields whose new value is given and differs; an empty value never erases."""
    out: dict[str, Any] = {}
    for name in INTAKE_FIELDS:
        value = getattr(parcel, name)
        if value is not None and value != getattr(stored, name):
            out[name] = value
    return out


def _save_chunk(conn: Connection, chunk: Sequence[ParcelInput], now: datetime) -> SaveSummary:
    columns = [_TABLE.c.id, _TABLE.c.courier, _TABLE.c.tracking_number]
    columns += [_TABLE.c[name] for name in INTAKE_FIELDS]
    numbers = sorted({p.tracking_number for p in chunk})
    existing = {
        (row.courier, row.tracking_number): row
        for row in conn.execute(select(*columns).where(_TABLE.c.tracking_number.in_(numbers)))
    }
    new_rows: list[dict[str, Any]] = []
    updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    unchanged = 0
    for parcel in chunk:
        stored = existing.get(parcel.key)
        if stored is None:
            new_rows.append(_new_row(parcel, now))
            continue
        changes = _changes(parcel, stored)
        if not changes:
            unchanged += 1
            continue
        changes["updated_at"] = now
        # group rows changing the same columns: one executemany per group
        updates.setdefault(tuple(sorted(changes)), []).append({"_id": stored.id, **changes})
    if new_rows:
        conn.execute(insert(_TABLE), new_rows)
    updated = 0
    # the SET clause comes from the parameter keys (same keys within one group)
    statement = update(_TABLE).where(_TABLE.c.id == bindparam("_id"))
    for params in updates.values():
        conn.execute(statement, params)
        updated += len(params)
    return SaveSummary(added=len(new_rows), updated=updated, unchanged=unchanged)


def save_parcels(
    db: Database,
    inputs: Sequence[ParcelInput],
    *,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> SaveSummary:
    """Insert new parcels (due for polling at once) and update changed intake fields.

    One transaction per chunk of :data:`CHUNK_SIZE` parcels.  ``progress(n)`` is called
    after each chunk with the number of parcels it held.  Re-saving the same inputs
    changes nothing.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    parcels = _merge(inputs)
    total = SaveSummary()
    for start in range(0, len(parcels), CHUNK_SIZE):
        chunk = parcels[start : start + CHUNK_SIZE]
        for attempt in (1, 2):
            try:
                with db.engine.begin() as conn:
                    result = _save_chunk(conn, chunk, now)
                break
            except IntegrityError:
                # someone else inserted one of these numbers meanwhile: look again once
                if attempt == 2:
                    raise
        total = total + result
        if progress is not None:
            progress(len(chunk))
    return total
