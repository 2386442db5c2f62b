"""Parcel rows as plain dicts for ``--json`` and reports.

Buyer name and phone are masked; checkpoint texts are kept whole because the
courier outlet phone numbers in them are what ops staff call."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from watcher.redact import mask_name, mask_phone
from watcher.store.models import Checkpoint, FlagEvent, Notice, Parcel

__all__ = ["parcel_summary", "parcel_detail", "checkpoint_view", "flag_event_view", "notice_view"]


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _verdict(p: Parcel) -> dict[str, Any]:
    try:
        data = json.loads(p.verdict) if p.verdict else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _hours_since_update(p: Parcel) -> float | None:
    """Hours between the last checkpoint and the last answer from the provider."""
    if p.last_checkpoint_at is None or p.last_polled_at is None:
        return None
    return round((p.last_polled_at - p.last_checkpoint_at).total_seconds() / 3600, 1)


def parcel_summary(p: Parcel) -> dict[str, Any]:
    verdict = _verdict(p)
    return {
        "tracking_number": p.tracking_number,
        "carrier": p.courier,
        "status": p.status,
        "flags": p.flag_list(),
        "order_id": p.order_id,
        "province": p.province,
        "city": p.city,
        "district": p.district,
        "shipped_at": _iso(p.shipped_at),
        "last_checkpoint": (
            {
                "time": _iso(p.last_checkpoint_at),
                "location": p.last_checkpoint_location or "",
                "text": p.last_checkpoint_text or "",
            }
            if p.last_checkpoint_at
            else None
        ),
        "flag_details": verdict.get("flags", []),
        "stage": verdict.get("stage"),
        "hours_since_update": _hours_since_update(p),
        "problem": p.problem,
        "provider": p.provider,
        "last_polled_at": _iso(p.last_polled_at),
        "next_poll_at": _iso(p.next_poll_at),
        "last_poll_error": p.last_poll_error,
    }


def checkpoint_view(c: Checkpoint) -> dict[str, Any]:
    return {
        "time": _iso(c.time),
        "location": c.location,
        "text": c.text,
        "status": c.status,
        "raw_code": c.raw_code,
        "provider": c.provider,
    }


def notice_view(n: Notice, p: Parcel) -> dict[str, Any]:
    return {
        "tracking_number": p.tracking_number, "carrier": p.courier, "kind": n.kind, "channel": n.channel,
        "state": n.state, "created_at": _iso(n.created_at), "sent_at": _iso(n.sent_at), "error": n.error,
        "attempts": n.attempts, "not_before": _iso(n.not_before), "provider_message_id": n.provider_message_id,
    }


def flag_event_view(e: FlagEvent) -> dict[str, Any]:
    return {
        "flag": e.flag, "code": e.code, "reason": e.reason, "level": e.level, "since": _iso(e.since),
        "raised_at": _iso(e.raised_at), "cleared_at": _iso(e.cleared_at),
    }


def parcel_detail(p: Parcel, checkpoints: Sequence[Checkpoint], history: Sequence[FlagEvent] = ()) -> dict[str, Any]:
    data = parcel_summary(p)
    verdict = _verdict(p)
    data.update(
        buyer_name=mask_name(p.buyer_name),
        buyer_phone=mask_phone(p.buyer_phone),
        has_chat_id=bool(p.buyer_chat_id),
        language=p.language,
        created_at=_iso(p.created_at),
        status_changed_at=_iso(p.status_changed_at),
        provider_state=p.provider_state,
        poll_failures=p.poll_failures,
        milestones=verdict.get("milestones", {}),
        remote=verdict.get("remote", False),
        flag_history=[flag_event_view(e) for e in history],
        checkpoints=[checkpoint_view(c) for c in checkpoints],
    )
    return data
