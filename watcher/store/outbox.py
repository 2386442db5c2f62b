"""Outbox writes shared by the dispatcher and the HTTP receivers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, select, update

from watcher.store.models import Notice

__all__ = ["skipped_channels", "fall_back_after_late_failure"]

N = Notice.__table__


def skipped_channels(value: str | None) -> list[str]:
    return [c for c in (value or "").split(",") if c]


def fall_back_after_late_failure(
    conn: Connection, sid: str, channels: Sequence[str], now: datetime, error: str,
) -> tuple[str, str] | None:
    """A channel accepted a notice, then reported it undelivered (Twilio ``undelivered``/``failed``,
    e.g. WhatsApp 63016 outside the 24-hour window): put the notice back in the queue for the
    channels after that one in ``notices.channels``, never that one again.

    Only a notice that the callback just marked ``failed`` moves.  Returns (channel, next
    channel) when it was queued again, None when no channel is left (it stays ``failed``,
    and the buyer goes on the report's "buyers to phone")."""
    row = conn.execute(
        select(N.c.id, N.c.channel, N.c.skip_channels).where(N.c.provider_message_id == sid, N.c.state == "failed")
    ).first()
    if row is None or not row.channel:
        return None
    skip = [*skipped_channels(row.skip_channels), row.channel]
    after = list(channels)[list(channels).index(row.channel) + 1:] if row.channel in channels else []
    remaining = [c for c in after if c not in skip]
    if not remaining:
        return None
    conn.execute(
        update(N).where(N.c.id == row.id, N.c.state == "failed")
        .values(state="queued", not_before=now, claim_token=None, provider_message_id=None,
                skip_channels=",".join(dict.fromkeys(skip))[:100],
                error=f"{row.channel}: {error} after it was accepted; trying {remaining[0]}"[:300])
    )
    return row.channel, remaining[0]
