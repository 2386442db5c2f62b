"""Renderers: a :class:`~watcher.report.build.Report` as text, CSV or JSON (HTML: :mod:`watcher.report.html`).

They only lay out what :func:`~watcher.report.build.build_report` computed (masking
included).  CSV is UTF-8 with a BOM so Excel shows Chinese text, one row per entry
(flagged parcel and flag); JSON follows ``docs/report-schema.json``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from watcher.clock import local_minute
from watcher.report.build import SECTIONS, BuyerCall, Entry, Report
from watcher.report.labels import labels, num, pct
from watcher.report.scorecard import RATE_FLAGS, CourierScore, Scorecard
from watcher.report.html import render_html

__all__ = [
    "render", "render_text", "render_csv", "render_json", "report_dict", "scorecard_dict", "scorecard_lines",
    "FORMATS", "SCHEMA_VERSION", "BOM",
]

SCHEMA_VERSION = 1
BOM = "\ufeff"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None




def _threshold(e: Entry, L: Mapping[str, str]) -> str:
    if e.threshold_hours is None:
        return ""
    extra = f" {L['incl']} +{e.extended_hours:g} h {'/'.join(e.extended_by)}" if e.extended_by else ""
    return f"{e.threshold_hours:g} h{extra}"


def entry_dict(e: Entry) -> dict[str, Any]:
    return {
        "tracking_number": e.tracking_number,
        "carrier": e.carrier,
        "order_id": e.order_id,
        "flag": e.flag,
        "code": e.code,
        "level": e.level,
        "reason": e.reason,
        "section": e.section,
        "status": e.status,
        "stage": e.stage,
        "buyer": {"name": e.buyer_name, "phone": e.buyer_phone, "province": e.province, "city": e.city},
        "last_checkpoint": (
            {"time": _iso(e.last_checkpoint_at), "location": e.last_checkpoint_location, "text": e.last_checkpoint_text}
            if e.last_checkpoint_at else None
        ),
        "hours_since_update": e.hours_since_update,
        "threshold_hours": e.threshold_hours,
        "extended_hours": e.extended_hours,
        "extended_by": list(e.extended_by),
        "flagged_since": _iso(e.flagged_since),
        "notices": [{"kind": n.kind, "channel": n.channel, "state": n.state, "at": _iso(n.at)} for n in e.notices],
        "acknowledged": e.acknowledged,
        "acknowledgements": [{"note": a.note, "by": a.by, "at": _iso(a.at), "current": a.current}
                             for a in e.acknowledgements],
        "next_actions": list(e.next_actions),
        "call_numbers": [{"number": c.number, "kind": c.kind, "context": c.context} for c in e.call_numbers],
    }


def _score_dict(score: CourierScore) -> dict[str, Any]:
    out: dict[str, Any] = {"carrier": score.carrier} if score.province is None else {"province": score.province}
    out.update(parcels=score.parcels, delivered=score.delivered, median_delivery_hours=score.median_delivery_hours)
    out.update({f"{flag}_rate": score.rates[flag] for flag in RATE_FLAGS})
    if score.province is None:
        out["provinces"] = [_score_dict(p) for p in score.provinces]
    return out


def scorecard_dict(card: Scorecard) -> dict[str, Any]:
    return {
        "days": card.days, "since": _iso(card.since), "until": _iso(card.until), "min_parcels": card.min_parcels,
        "couriers": [_score_dict(c) for c in card.couriers],
        "providers": [
            {"provider": p.provider, "cycles": p.cycles, "requests": p.requests, "parcels": p.parcels,
             "failed": p.failed, "failed_cycles": p.failed_cycles, "outages": p.outages,
             "longest_outage_hours": p.longest_outage_hours, "ongoing": p.ongoing, "last_error": p.last_error}
            for p in card.providers
        ],
    }


def buyer_call_dict(c: BuyerCall) -> dict[str, Any]:
    return {
        "tracking_number": c.tracking_number, "carrier": c.carrier, "order_id": c.order_id,
        "buyer": {"name": c.buyer_name, "phone": c.buyer_phone, "city": c.city}, "flags": list(c.flags),
        "failed_notices": list(c.kinds), "failed_at": _iso(c.failed_at), "error": c.error,
    }


def report_dict(report: Report) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "shop": report.shop,
        "generated_at": _iso(report.as_of),
        "since_last_report": _iso(report.since),
        "timezone": report.timezone,
        "summary": report.summary,
        "flagged": [entry_dict(e) for e in report.entries],
        "resolved_today": [
            {"tracking_number": r.tracking_number, "carrier": r.carrier, "order_id": r.order_id, "flag": r.flag,
             "code": r.code, "flagged_since": _iso(r.flagged_since), "resolved_at": _iso(r.resolved_at),
             "status": r.status}
            for r in report.resolved
        ],
        "call_list": [{"number": c.number, "kind": c.kind, "context": c.context,
                       "tracking_numbers": list(c.tracking_numbers)} for c in report.call_list],
        "call_list_unmasked": report.call_list_unmasked,
        "buyers_to_phone": [buyer_call_dict(c) for c in report.buyers_to_phone],
        "scorecard": scorecard_dict(report.scorecard) if report.scorecard is not None else None,
    }


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def render_json(report: Report) -> str:
    """One top-level key per line and one list item (a flagged entry …) per line.

    ``indent=`` would push every value through the pure-Python encoder, about four
    times slower on thousands of entries; this keeps the C encoder and stays diffable."""
    parts = []
    for key, value in report_dict(report).items():
        if isinstance(value, list) and value:
            items = ",\n".join(f"    {_compact(item)}" for item in value)
            parts.append(f"  {_compact(key)}: [\n{items}\n  ]")
        else:
            parts.append(f"  {_compact(key)}: {_compact(value)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


CSV_COLUMNS = [
    "section", "flag", "code", "level", "carrier", "tracking_number", "order_id", "buyer_city", "buyer_name",
    "buyer_phone", "status", "stage", "last_checkpoint_time", "last_checkpoint_location", "last_checkpoint_text",
    "hours_since_update", "threshold_hours", "extended_hours", "extended_by", "flagged_since", "notices",
    "acknowledged", "acknowledgements", "next_actions", "call_numbers", "reason",
]


def render_csv(report: Report) -> str:
    """UTF-8 text starting with a BOM; write it with ``encoding="utf-8"`` (or use ``.encode()``)."""
    tz = ZoneInfo(report.timezone)
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for e in report.entries:
        writer.writerow([
            e.section, e.flag, e.code, e.level, e.carrier, e.tracking_number, e.order_id or "", e.city or "",
            e.buyer_name, e.buyer_phone, e.status, e.stage or "", local_minute(e.last_checkpoint_at, tz),
            e.last_checkpoint_location, e.last_checkpoint_text, num(e.hours_since_update), num(e.threshold_hours),
            num(e.extended_hours), "/".join(e.extended_by), local_minute(e.flagged_since, tz),
            "; ".join(f"{n.kind}/{n.channel or '-'}/{n.state}" for n in e.notices),
            "yes" if e.acknowledged else "no",
            "; ".join(f"{local_minute(a.at, tz)} {a.by}: {a.note}".replace("  ", " ") for a in e.acknowledgements),
            ";".join(e.next_actions), "; ".join(c.number for c in e.call_numbers), e.reason,
        ])
    return out.getvalue()


def _entry_lines(e: Entry, tz: ZoneInfo, L: Mapping[str, str]) -> list[str]:
    level = " " + L["level"].format(level=e.level) if e.level else ""
    buyer = " ".join(x for x in (e.city or "", e.buyer_name, e.buyer_phone) if x)
    lines = [
        f"  - {e.tracking_number}  {L['order']} {e.order_id or '-'}  {L['buyer']} {buyer or '-'}  [{e.code}{level}]",
        f"    {L['stage']} {e.stage or e.status}; {L['last_scan']} {local_minute(e.last_checkpoint_at, tz) or '-'} "
        f"{e.last_checkpoint_location} {e.last_checkpoint_text}".rstrip(),
    ]
    if e.hours_since_update is not None or e.threshold_hours is not None:
        lines.append("    " + L["hours_still"].format(hours=num(e.hours_since_update) or "?")
                     + (f" ({L['threshold']} {_threshold(e, L)})" if e.threshold_hours is not None else ""))
    if e.reason:
        lines.append(f"    {L['why']}: {e.reason}")
    if e.notices:
        lines.append(f"    {L['notices']}: " + "; ".join(
            f"{n.kind} {n.channel or '-'} {n.state} {local_minute(n.at, tz)}"
            for n in e.notices))
    for a in e.acknowledgements:
        by = " " + L["ack_by"].format(by=a.by) if a.by else ""
        lines.append(f"    {L['acknowledged']} {local_minute(a.at, tz)}{by}: "
                     f"{a.note}" + ("" if a.current else f" ({L['earlier_episode']})"))
    lines.append(f"    {L['next']}: " + "; ".join(L.get(f"action.{a}", a) for a in e.next_actions)
                 + (f" — {', '.join(c.number for c in e.call_numbers)}" if e.call_numbers else ""))
    return lines


def render_text(report: Report) -> str:
    tz = ZoneInfo(report.timezone)
    L = labels(report.language)
    s = report.summary
    lines = [
        f"{L['title'].format(shop=report.shop)} {local_minute(report.as_of, tz)} ({report.timezone})",
        f"{L['since_last']}: {local_minute(report.since, tz) or L['none_before']}",
        "",
        f"{L['flagged']}: {s['flagged_parcels']}  {L['new']}: {s['new']}  {L['open']}: {s['open']}  "
        f"{L['in_hand']}: {s['in_hand']}  {L['resolved_today']}: {s['resolved_today']}",
        f"{L['probable_losses']}: {s['probable_losses']}  {L['buyer_unreached']}: {s['buyer_unreached']}  "
        f"{L['buyers_to_phone']}: {s['buyers_to_phone']}",
        f"{L['by_flag']}: " + (", ".join(f"{k} {v}" for k, v in s["by_flag"].items()) or "-"),
        f"{L['by_carrier']}: " + (", ".join(f"{k} {v}" for k, v in s["by_carrier"].items()) or "-"),
    ]
    for name in SECTIONS:
        entries = report.section(name)
        lines += ["", f"== {L['section.' + name]} ({len(entries)}) =="]
        for flag, carrier, items in report.grouped(entries):
            lines.append(f"{flag} · {carrier} ({len(items)})")
            for e in items:
                lines += _entry_lines(e, tz, L)
    lines += ["", f"== {L['section.resolved']} ({len(report.resolved)}) =="]
    for r in report.resolved:
        lines.append(f"  - {r.tracking_number} {r.carrier} {r.flag} ({r.code}) {L['cleared']} "
                     f"{local_minute(r.resolved_at, tz)}, {L['now_status'].format(status=r.status)}")
    if report.call_list:
        lines += ["", f"== {L['section.calls']} ({len(report.call_list)}) =="]
        for c in report.call_list:
            lines.append(f"  {c.number}  {c.kind}  {c.context or '-'}  ({', '.join(c.tracking_numbers)})")
    lines += ["", f"== {L['section.buyers']} ({len(report.buyers_to_phone)}) =="]
    for b in report.buyers_to_phone:
        buyer = " ".join(x for x in (b.city or "", b.buyer_name, b.buyer_phone) if x) or "-"
        lines.append(f"  - {b.tracking_number} {b.carrier} {L['order']} {b.order_id or '-'}  {L['buyer']} {buyer}  "
                     f"{L['failed_notices']}: {', '.join(b.kinds)} {local_minute(b.failed_at, tz)}"
                     + (f" ({b.error})" if b.error else ""))
    if report.scorecard is not None:
        lines += [""] + scorecard_lines(report.scorecard, tz, L)
    return "\n".join(lines) + "\n"


def scorecard_lines(card: Scorecard, tz: ZoneInfo, L: Mapping[str, str] | None = None) -> list[str]:
    L = L or labels("en")
    lines = [f"== {L['section.scorecard']}: "
             + L["shipped"].format(since=local_minute(card.since, tz), until=local_minute(card.until, tz),
                                   days=card.days) + " ==",
             f"  {L['courier_province']:<20}{L['parcels']:>8}{L['delivered']:>10}{L['median_h']:>10}"
             + "".join(f"{flag:>15}" for flag in RATE_FLAGS)]

    def row(label: str, score: CourierScore) -> str:
        median = "-" if score.median_delivery_hours is None else f"{score.median_delivery_hours:g}"
        return (f"  {label:<20}{score.parcels:>8}{score.delivered:>10}{median:>10}"
                + "".join(f"{pct(score.rates[flag]):>15}" for flag in RATE_FLAGS))

    for score in card.couriers:
        lines.append(row(score.carrier, score))
        lines += [row("  " + (p.province or ""), p) for p in score.provinces]
    if not card.couriers:
        lines.append(f"  {L['no_parcels']}")
    compared = card.by_destination()
    if compared:
        lines += ["", f"== {L['by_destination']} =="]
        for province, scores in compared:
            lines.append(f"  {province}: " + ", ".join(
                f"{s.carrier} {'-' if s.median_delivery_hours is None else f'{s.median_delivery_hours:g}'} h "
                f"({L['stalled_share'].format(rate=pct(s.rates['stalled']))})" for s in scores))
    lines += ["", f"== {L['section.providers']} ({card.days} days) =="]
    for p in card.providers:
        lines.append(
            "  " + L["provider_line"].format(provider=p.provider, cycles=p.cycles, requests=p.requests,
                                             parcels=p.parcels, failed=p.failed, outages=p.outages,
                                             longest=f"{p.longest_outage_hours:g}")
            + (f", {L['failing_now']}" if p.ongoing else "")
            + (f"; {L['last_error']}: {p.last_error}" if p.last_error else ""))
    if not card.providers:
        lines.append(f"  {L['no_polls']}")
    return lines


FORMATS: dict[str, Callable[[Report], str]] = {
    "text": render_text, "csv": render_csv, "json": render_json, "html": render_html,
}


def render(report: Report, fmt: str) -> str:
    try:
        return FORMATS[fmt](report)
    except KeyError:
        raise ValueError(f"unknown report format {fmt!r}; known: {', '.join(FORMATS)}") from None
