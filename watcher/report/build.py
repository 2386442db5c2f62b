"""From a store snapshot to a :class:`Report`: entries, sections, groups, summary, call list.

Pure: the clock and the store are read by :mod:`watcher.report.data`.  Every
personal field is masked here, once, so no renderer can leak one: buyer phone
(``139****5678``), buyer name (``张*``), phone numbers inside checkpoint texts and
reasons.  Courier/outlet numbers of the call list stay whole when
``report.unmask_call_list`` is true (the default): ops staff must be able to dial them.

One entry per (parcel, flag): a parcel flagged ``stalled`` and ``exception`` is
listed twice, once under each flag — "every flagged parcel exactly once with its
flag".  Each entry sits in exactly one section:

- ``in_hand``: acknowledged (``parcelwatch ack``) since this flag episode started,
  at its current escalation level or higher;
- ``new``: the episode started after the last report (every entry when there was none);
- ``open``: the rest.

``resolved_today`` lists flag episodes cleared between the start of the shop-local
day and the report time.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from watcher.clock import utc
from watcher.redact import mask_name, mask_phone, mask_text
from watcher.report.calls import CallNumber, call_list, mask_numbers
from watcher.report.data import ParcelRows, Snapshot
from watcher.report.labels import action
from watcher.report.scorecard import Scorecard
from watcher.store.models import split_flags

__all__ = [
    "Report", "Entry", "Resolved", "CallEntry", "BuyerCall", "NoticeLine", "AckLine", "build_report", "SECTIONS",
    "ACTIONS",
]

SECTIONS = ("new", "open", "in_hand")
FLAG_ORDER = ("stalled", "unreachable", "exception", "not_collected")
#: next actions, in the order a person should try them (English words; see watcher.report.labels)
ACTIONS = {code: action(code) for code in ("claim", "reship", "call_outlet", "call_buyer")}
_REACHED = {"sent", "delivered"}


#: anything grouped by flag and courier (Entry, Resolved)
G = TypeVar("G", "Entry", "Resolved")


@dataclass(frozen=True, slots=True)
class NoticeLine:
    kind: str
    channel: str | None
    state: str
    at: datetime  # sent_at, else created_at


@dataclass(frozen=True, slots=True)
class AckLine:
    note: str
    by: str
    at: datetime
    current: bool  # covers the flag episode as it is now


@dataclass(frozen=True, slots=True)
class Entry:
    section: str
    tracking_number: str
    carrier: str
    order_id: str | None
    flag: str
    code: str
    level: int
    reason: str
    status: str
    stage: str | None
    province: str | None
    city: str | None
    buyer_name: str  # masked
    buyer_phone: str  # masked
    last_checkpoint_at: datetime | None
    last_checkpoint_location: str
    last_checkpoint_text: str  # phone numbers masked
    hours_since_update: float | None
    threshold_hours: float | None
    extended_hours: float
    extended_by: tuple[str, ...]
    flagged_since: datetime
    notices: tuple[NoticeLine, ...]
    acknowledgements: tuple[AckLine, ...]
    next_actions: tuple[str, ...]
    call_numbers: tuple[CallNumber, ...]  # masked unless the call list is unmasked

    @property
    def acknowledged(self) -> bool:
        return self.section == "in_hand"


@dataclass(frozen=True, slots=True)
class Resolved:
    tracking_number: str
    carrier: str
    order_id: str | None
    flag: str
    code: str
    flagged_since: datetime
    resolved_at: datetime
    status: str


@dataclass(frozen=True, slots=True)
class CallEntry:
    number: str
    kind: str
    context: str
    tracking_numbers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BuyerCall:
    """A buyer no channel reached: every notice in the last days failed and none got through since."""

    tracking_number: str
    carrier: str
    order_id: str | None
    buyer_name: str  # masked
    buyer_phone: str  # masked unless report.unmask_buyer_phones
    city: str | None
    flags: tuple[str, ...]
    kinds: tuple[str, ...]  # the notices that failed
    failed_at: datetime  # the latest failure
    error: str  # the latest failure's reason, numbers masked


@dataclass(frozen=True, slots=True)
class Report:
    shop: str
    as_of: datetime
    since: datetime | None  # the last report before this one
    day_start: datetime
    timezone: str
    entries: tuple[Entry, ...]
    resolved: tuple[Resolved, ...]
    call_list: tuple[CallEntry, ...]
    call_list_unmasked: bool = True
    buyers_to_phone: tuple[BuyerCall, ...] = ()
    scorecard: Scorecard | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    language: str = "en"  # of the words people read (text, HTML, chat): report.language

    def section(self, name: str) -> list[Entry]:
        return [e for e in self.entries if e.section == name]

    def grouped(self, entries: Iterable[G]) -> list[tuple[str, str, list[G]]]:
        """(flag, carrier, items) groups in report order: flagged entries or resolved episodes."""
        groups: dict[tuple[str, str], list[G]] = {}
        for e in entries:
            groups.setdefault((e.flag, e.carrier), []).append(e)
        return [(flag, carrier, items) for (flag, carrier), items in groups.items()]


def _verdict_flags(rows: ParcelRows) -> tuple[dict[str, dict[str, Any]], str | None]:
    try:
        verdict = json.loads(rows.parcel.verdict or "{}")
    except ValueError:
        verdict = {}
    if not isinstance(verdict, dict):
        verdict = {}
    flags = {f.get("flag"): f for f in verdict.get("flags", []) if isinstance(f, dict)}
    return flags, verdict.get("stage")


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return utc(datetime.fromisoformat(str(value)))
    except ValueError:
        return None


def _hours(detail: dict[str, Any], rows: ParcelRows, as_of: datetime) -> float | None:
    if detail.get("hours") is not None:
        return round(float(detail["hours"]), 1)
    p = rows.parcel
    if p.last_checkpoint_at is None:
        return None
    until = p.last_polled_at or as_of
    return round(max((utc(until) - utc(p.last_checkpoint_at)).total_seconds(), 0) / 3600, 1)


def _actions(flag: str, level: int, code: str, notices: tuple[NoticeLine, ...]) -> tuple[str, ...]:
    actions: list[str] = []
    if flag == "unreachable" or code == "out_of_area":
        actions.append("reship")
    elif flag == "stalled" and level >= 2:
        actions.append("claim")
    else:
        actions.append("call_outlet")
    if notices and any(n.state == "failed" for n in notices) and not any(n.state in _REACHED for n in notices):
        actions.append("call_buyer")
    return tuple(actions)


def _mask_call(item: CallNumber, unmask: bool) -> CallNumber:
    if unmask or item.kind == "service":
        return item
    return CallNumber(mask_phone(item.number) if item.number[0] == "1" else _mask_landline(item.number),
                      item.kind, item.context)


def _mask_landline(number: str) -> str:
    area, _, rest = number.partition("-")
    return f"{area}-{'*' * max(len(rest) - 4, 0)}{rest[-4:]}" if rest else mask_phone(number)


def _entry(rows: ParcelRows, name: str, detail: dict[str, Any], stage: str | None, snap: Snapshot,
           unmask: bool) -> Entry | None:
    p = rows.parcel
    event = rows.open_events.get(name)
    since = (utc(event.raised_at) if event else None) or _parse_time(detail.get("since")) or utc(p.updated_at)
    if since > snap.as_of:  # raised after the day the report is for
        return None
    level = max(int(detail.get("level") or 0), event.level if event else 0)
    acks = tuple(
        AckLine(mask_numbers(mask_text(a.note)), a.by, utc(a.created_at), utc(a.created_at) >= since and a.level >= level)
        for a in rows.acks if a.flag == name
    )
    if any(a.current for a in acks):
        section = "in_hand"
    elif snap.last_report_at is None or since > snap.last_report_at:
        section = "new"
    else:
        section = "open"
    notices = tuple(NoticeLine(n.kind, n.channel, n.state, utc(n.sent_at or n.created_at)) for n in rows.notices)
    code = str(detail.get("code") or (event.code if event else "") or "")
    hide = mask_text if unmask else (lambda text: mask_numbers(mask_text(text)))
    actions = _actions(name, level, code, notices)
    numbers = tuple(_mask_call(c, unmask) for c in call_list(rows.checkpoint_texts)) if "call_outlet" in actions else ()
    return Entry(
        section=section, tracking_number=p.tracking_number, carrier=p.courier, order_id=p.order_id, flag=name,
        code=code, level=level, reason=hide(str(detail.get("reason") or (event.reason if event else ""))),
        status=p.status, stage=stage, province=p.province, city=p.city, buyer_name=mask_name(p.buyer_name),
        buyer_phone=mask_phone(p.buyer_phone),
        last_checkpoint_at=utc(p.last_checkpoint_at) if p.last_checkpoint_at else None,
        last_checkpoint_location=p.last_checkpoint_location or "",
        last_checkpoint_text=hide(p.last_checkpoint_text or ""),
        hours_since_update=_hours(detail, rows, snap.as_of),
        threshold_hours=None if detail.get("threshold_hours") is None else round(float(detail["threshold_hours"]), 1),
        extended_hours=round(float(detail.get("extended_hours") or 0.0), 1),
        extended_by=tuple(detail.get("extended_by") or ()), flagged_since=since, notices=notices,
        acknowledgements=acks, next_actions=actions, call_numbers=numbers,
    )


def _order(e: Entry) -> tuple[Any, ...]:
    flag_rank = FLAG_ORDER.index(e.flag) if e.flag in FLAG_ORDER else len(FLAG_ORDER)
    return (flag_rank, e.flag, e.carrier, -e.level, -(e.hours_since_update or 0.0), e.tracking_number)


def _buyer_calls(snap: Snapshot, unmask_phones: bool) -> tuple[BuyerCall, ...]:
    failures: dict[int, list[tuple[datetime, Any]]] = {}
    parcels: dict[int, Any] = {}
    for notice, parcel, reached in snap.failed_notices:
        failed_at = utc(notice.last_attempt_at or notice.created_at)
        if reached is not None and reached >= failed_at:
            continue  # a later notice got through: the buyer has heard from the shop
        failures.setdefault(parcel.id, []).append((failed_at, notice))
        parcels[parcel.id] = parcel
    calls = []
    for pid, items in failures.items():
        p = parcels[pid]
        items.sort(key=lambda item: item[0])
        latest_at, latest = items[-1]
        calls.append(BuyerCall(
            tracking_number=p.tracking_number, carrier=p.courier, order_id=p.order_id,
            buyer_name=mask_name(p.buyer_name),
            buyer_phone=(p.buyer_phone or "") if unmask_phones else mask_phone(p.buyer_phone), city=p.city,
            flags=tuple(split_flags(p.flags)), kinds=tuple(dict.fromkeys(n.kind for _, n in items)), failed_at=latest_at,
            error=mask_numbers(mask_text(latest.error or latest.reason or "")),
        ))
    return tuple(sorted(calls, key=lambda c: (c.failed_at, c.tracking_number)))


def build_report(snap: Snapshot, *, shop: str, timezone: str, unmask_call_list: bool = True,
                 unmask_buyer_phones: bool = False, scorecard: Scorecard | None = None,
                 language: str = "en") -> Report:
    entries: list[Entry] = []
    for rows in snap.flagged:
        details, stage = _verdict_flags(rows)
        for name in split_flags(rows.parcel.flags):
            entry = _entry(rows, name, details.get(name, {}), stage, snap, unmask_call_list)
            if entry is not None:
                entries.append(entry)
    entries.sort(key=_order)
    resolved = tuple(
        Resolved(p.tracking_number, p.courier, p.order_id, e.flag, e.code, utc(e.raised_at),
                 utc(e.cleared_at), p.status)  # type: ignore[arg-type]
        for e, p in snap.resolved
    )
    calls: dict[str, tuple[CallNumber, list[str]]] = {}
    for e in entries:
        if e.section == "in_hand":
            continue
        for c in e.call_numbers:
            calls.setdefault(c.number, (c, []))[1].append(e.tracking_number)
    call_entries = tuple(CallEntry(c.number, c.kind, c.context, tuple(dict.fromkeys(nums))) for c, nums in calls.values())
    sections = Counter(e.section for e in entries)
    buyers = _buyer_calls(snap, unmask_buyer_phones)
    summary = {
        "flagged_parcels": len({(e.carrier, e.tracking_number) for e in entries}),
        "entries": len(entries),
        "new": sections["new"],
        "open": sections["open"],
        "in_hand": sections["in_hand"],
        "resolved_today": len(resolved),
        "probable_losses": sum(1 for e in entries if "claim" in e.next_actions),
        "buyer_unreached": sum(1 for e in entries if "call_buyer" in e.next_actions),
        "buyers_to_phone": len(buyers),
        "by_flag": dict(Counter(e.flag for e in entries)),
        "by_carrier": dict(sorted(Counter(e.carrier for e in entries).items())),
    }
    return Report(shop=shop, as_of=snap.as_of, since=snap.last_report_at, day_start=snap.day_start, timezone=timezone,
                  entries=tuple(entries), resolved=resolved, call_list=call_entries,
                  call_list_unmasked=unmask_call_list, buyers_to_phone=buyers, scorecard=scorecard, summary=summary,
                  language=language)
