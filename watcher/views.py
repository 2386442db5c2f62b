"""Parcel rows as plain dicts for ``--json`` and reports.

Buyer name and phone are masked; checkpoint texts are kept whole because the
courier outlet phone numbers in them are what ops staff call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from watcher.redact import mask_name, mask_phone
from watcher.store.models import Checkpoint, Parcel

__all__ = ["parcel_summary", "parcel_detail", "checkpoint_view"]


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def parcel_summary(p: Parcel) -> dict[str, Any]:
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


def parcel_detail(p: Parcel, checkpoints: Sequence[Checkpoint]) -> dict[str, Any]:
    data = parcel_summary(p)
    data.update(
        buyer_name=mask_name(p.buyer_name),
        buyer_phone=mask_phone(p.buyer_phone),
        has_chat_id=bool(p.buyer_chat_id),
        language=p.language,
        created_at=_iso(p.created_at),
        status_changed_at=_iso(p.status_changed_at),
        provider_state=p.provider_state,
        poll_failures=p.poll_failures,
        checkpoints=[checkpoint_view(c) for c in checkpoints],
    )
    return data
