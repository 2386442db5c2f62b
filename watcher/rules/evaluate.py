"""Rules: pure judgement of one parcel.  No I/O, no clock reads.

``evaluate(parcel, tracking, now)`` → :class:`Verdict`.  Today this decides the
normalized status; flag detection (stalled, unreachable, exception,
not_collected) builds on the same entry point.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from carriers.base import TERMINAL_STATUSES, Checkpoint, Status, Tracking

__all__ = ["ParcelFacts", "Verdict", "evaluate"]


@dataclass(frozen=True, slots=True)
class ParcelFacts:
    """What the rules may know about a parcel besides its checkpoints."""

    courier: str
    tracking_number: str
    status: str = Status.PENDING.value
    shipped_at: datetime | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    status: Status
    terminal: bool
    last_checkpoint: Checkpoint | None
    flags: tuple[str, ...] = field(default=())


def evaluate(parcel: ParcelFacts, tracking: Tracking | None, now: datetime) -> Verdict:
    """Judge ``parcel`` from its latest tracking (``None``: provider has nothing yet)."""
    if tracking is None or not tracking.checkpoints:
        status = tracking.status if tracking is not None else Status.PENDING
        if status in TERMINAL_STATUSES:  # a terminal status with no trace is not believable
            status = Status.UNKNOWN
        return Verdict(status=status, terminal=False, last_checkpoint=None)
    last = tracking.checkpoints[0]
    status = tracking.status
    if status is Status.UNKNOWN and last.status is not None:
        status = last.status
    return Verdict(status=status, terminal=status in TERMINAL_STATUSES, last_checkpoint=last)
