"""Personal data is kept only as long as it serves the buyer (PIPL: the shortest retention).

``database.retention_days`` after a parcel was delivered or returned, :func:`purge_personal_data`
erases what identifies its buyer: name, phone, chat id and street address on the parcel,
and the rendered text of every notice sent about it (it greets the buyer).  What the
shop still needs stays: courier, tracking number, order id, province/city/district
(the courier scorecard), statuses, milestones, checkpoints, flag history and notice
states.  Opt-outs stay too: a buyer who said STOP must stay opted out.

``run`` does this once a day; ``parcelwatch db purge`` does it now.  Idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update

from watcher.store.db import Database
from watcher.store.models import Notice, Parcel

__all__ = ["PurgeResult", "purge_personal_data", "TERMINAL"]

P = Parcel.__table__
N = Notice.__table__
#: parcel statuses after which nothing more is sent to the buyer
TERMINAL = ("delivered", "returned")


@dataclass(frozen=True, slots=True)
class PurgeResult:
    parcels: int
    notices: int
    before: datetime  # parcels finished before this were purged


def purge_personal_data(db: Database, *, now: datetime, retention_days: int) -> PurgeResult:
    """Erase buyer data of parcels finished more than ``retention_days`` ago; 0 keeps everything."""
    before = now - timedelta(days=retention_days)
    if retention_days <= 0:
        return PurgeResult(0, 0, before)
    finished = func.coalesce(P.c.status_changed_at, P.c.updated_at)
    old = select(P.c.id).where(P.c.status.in_(TERMINAL), finished < before)
    personal = or_(P.c.buyer_name.is_not(None), P.c.buyer_phone.is_not(None), P.c.buyer_chat_id.is_not(None),
                   P.c.address.is_not(None))
    with db.engine.begin() as conn:
        notices = conn.execute(
            update(N).where(N.c.parcel_id.in_(old), N.c.body.is_not(None)).values(body=None)
        ).rowcount or 0
        parcels = conn.execute(
            update(P).where(P.c.id.in_(old.where(personal)))
            .values(buyer_name=None, buyer_phone=None, buyer_chat_id=None, address=None)
        ).rowcount or 0
    return PurgeResult(parcels, notices, before)
