"""One function per verb.  Each loads what it needs through :class:`watcher.app.App`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path

from carriers.couriers import couriers
from watcher.app import App
from watcher.cli.output import console, emit_json, local_time, table
from watcher.errors import InputError
from watcher.settings import load_settings
from watcher.store import queries
from watcher.views import notice_view, parcel_detail, parcel_summary

__all__ = ["dispatch"]


def _app(args: argparse.Namespace) -> App:
    return App(load_settings(args.config))


def cmd_import(args: argparse.Namespace) -> int:
    from watcher.intake import import_csv

    app = _app(args)
    path = Path(args.file)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    progress = _progress_bar() if sys.stderr.isatty() and not args.json else None
    try:
        report = import_csv(
            path, db=app.db, shop_tz=app.settings.shop.tz, now=app.clock.now(),
            progress=progress.update if progress else None,
        )
    finally:
        if progress:
            progress.close()
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        emit_json(
            {
                "rows": report.rows, "added": report.added, "updated": report.updated,
                "unchanged": report.unchanged, "duplicates_skipped": report.duplicates_skipped,
                "errors": [{"line": e.line, "column": e.column, "reason": e.reason} for e in report.errors],
            }
        )
    else:
        for error in report.errors:
            print(f"{path.name}:{error}", file=sys.stderr)
        print(
            f"imported {path.name}: {report.rows} rows, {report.added} added, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.duplicates_skipped} duplicate rows skipped, "
            f"{len(report.errors)} rejected"
        )
    return 1 if report.errors else 0


class _progress_bar:
    """A rich progress bar on stderr, shown only on a terminal."""

    def __init__(self) -> None:
        from rich.progress import Progress

        self._progress = Progress(console=console(sys.stderr), transient=True)
        self._progress.start()
        self._task = self._progress.add_task("importing", total=None)

    def update(self, done: int, total: int) -> None:
        self._progress.update(self._task, completed=done, total=total)

    def close(self) -> None:
        self._progress.stop()


def cmd_add(args: argparse.Namespace) -> int:
    from watcher.intake import add_parcel

    app = _app(args)
    fields = {k: getattr(args, k) for k in (
        "carrier", "tracking_number", "order_id", "buyer_name", "buyer_phone", "buyer_chat_id",
        "province", "city", "district", "address", "shipped_at", "language")}
    parcel, summary = add_parcel(fields, db=app.db, shop_tz=app.settings.shop.tz, now=app.clock.now())
    outcome = "added" if summary.added else "updated" if summary.updated else "unchanged"
    if args.json:
        emit_json({"tracking_number": parcel.tracking_number, "carrier": parcel.courier, "result": outcome})
    else:
        print(f"{outcome}: {parcel.courier} {parcel.tracking_number}")
    return 0


def cmd_poll(args: argparse.Namespace) -> int:
    from watcher.channels import build_channels
    from watcher.dispatcher import Dispatcher
    from watcher.poller import Poller

    app = _app(args)
    poller = Poller(app.db, app.settings, registry=app.registry, clock=app.clock)

    channels = build_channels(app.settings, clock=app.clock)
    dispatcher = Dispatcher(app.db, app.settings, channels, clock=app.clock) if channels else None

    async def once() -> tuple[object, object]:
        try:
            summary = await poller.run_cycle(all_parcels=args.all)
            sent = await dispatcher.drain() if dispatcher else None
            return summary, sent
        finally:
            await poller.aclose()
            if dispatcher:
                await dispatcher.aclose()

    summary, sent = asyncio.run(once())
    data = summary.as_dict()  # type: ignore[attr-defined]
    data["notices"] = sent.as_dict() if sent else None  # type: ignore[attr-defined]
    if args.json:
        emit_json(data)
    else:
        print(
            f"polled {data['parcels']} parcels: {data['answered']} answered, {data['updated']} changed status, "
            f"{data['new_checkpoints']} new checkpoints, {data['problems']} with problems, "
            f"{data['failed']} not reachable, {data['skipped']} skipped (too soon or provider paused)"
        )
        notices = data["notices"]
        print(f"notices: {notices['sent']} sent, {notices['deferred']} deferred, {notices['failed']} failed"
              if notices else "notices: no channel configured (set [twilio] or [chat]); they wait in the outbox")
    failed = {name: s for name, s in data["providers"].items() if s["failed"]}  # type: ignore[union-attr]
    for name, stats in failed.items():
        print(f"parcelwatch: error: {name}: {stats['failed']} parcels not polled: {stats['error']}", file=sys.stderr)
    return 1 if failed else 0


def cmd_run(args: argparse.Namespace) -> int:
    from watcher.daemon import run_daemon

    return run_daemon(_app(args))


def cmd_serve(args: argparse.Namespace) -> int:
    from watcher.serve import ServeContext, run_server

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    app = App(load_settings(args.config, overrides={"serve": overrides} if overrides else None))
    try:
        return run_server(ServeContext(app.settings, app.db, app.clock))
    finally:
        app.close()


def cmd_list(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 0:
        raise InputError("--limit must be 0 or more")
    app = _app(args)
    parcels = queries.list_parcels(app.db, flag=args.flag, status=args.status, limit=args.limit)
    if args.json:
        emit_json([parcel_summary(p) for p in parcels])
        return 0
    tz = app.settings.shop.tz
    rows = [
        (p.tracking_number, p.courier, p.status, ",".join(p.flag_list()), p.city or "",
         local_time(p.last_checkpoint_at, tz), _short(p.last_checkpoint_text or p.problem or ""))
        for p in parcels
    ]
    out = console()
    out.print(table(["number", "carrier", "status", "flags", "city", "last scan", "last checkpoint"], rows))
    out.print(f"{len(parcels)} parcels")
    return 0


def cmd_notices(args: argparse.Namespace) -> int:
    app = _app(args)
    rows = [notice_view(n, p) for n, p in queries.list_notices(app.db, state=args.state, limit=args.limit)]
    if args.json:
        emit_json(rows)
        return 0
    out = console()
    out.print(table(["number", "kind", "channel", "state", "created", "sent", "error"], [
        (r["tracking_number"], r["kind"], r["channel"] or "", r["state"], (r["created_at"] or "")[:16],
         (r["sent_at"] or "")[:16], r["error"] or "") for r in rows]))
    out.print(f"{len(rows)} notices")
    return 0


def _short(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def cmd_show(args: argparse.Namespace) -> int:
    app = _app(args)
    found = queries.find_parcels(app.db, args.number, args.carrier)
    if not found:
        raise InputError(f"no parcel with tracking number {args.number!r}")
    if len(found) > 1:
        raise InputError(
            f"{args.number} exists for several couriers ({', '.join(p.courier for p in found)}): add --carrier"
        )
    parcel = found[0]
    assert parcel.id is not None
    checkpoints = queries.checkpoints_of(app.db, parcel.id)
    detail = parcel_detail(parcel, checkpoints, queries.flag_events_of(app.db, parcel.id))
    if args.json:
        emit_json(detail)
        return 0
    tz = app.settings.shop.tz
    out = console()
    keys = ("tracking_number", "carrier", "status", "flags", "order_id", "buyer_name", "buyer_phone",
            "province", "city", "district", "problem", "last_poll_error")
    for key in keys:
        value = detail[key]
        if value not in (None, "", []):
            out.print(f"{key:>16}: {', '.join(value) if isinstance(value, list) else value}")
    for key in ("shipped_at", "last_polled_at", "next_poll_at"):
        when = getattr(parcel, key)
        if when:
            out.print(f"{key:>16}: {local_time(when, tz)}")
    for flag in detail["flag_details"]:
        extended = f", +{flag['extended_hours']:g} h for {', '.join(flag['extended_by'])}" if flag["extended_by"] else ""
        level = f", level {flag['level']}" if flag["level"] else ""
        out.print(f"{'flag':>16}: {flag['flag']} ({flag['code']}{level}{extended}): {flag['reason']}")
    rows = [(local_time(c.time, tz), c.location, c.status or "", c.text) for c in checkpoints]
    out.print(table(["time", "location", "status", "text"], rows, title="checkpoints (newest first)"))
    history = [(e["flag"], e["code"], e["raised_at"][:16], (e["cleared_at"] or "open")[:16]) for e in detail["flag_history"]]
    if history:
        out.print(table(["flag", "code", "raised", "cleared"], history, title="flag history"))
    return 0


def cmd_carriers(args: argparse.Namespace) -> int:
    app = _app(args)
    registry = app.registry
    settings = app.settings
    known = couriers()
    routed: dict[str, list[str]] = {}
    for code in known:
        routed.setdefault(settings.provider_for(code), []).append(code)
    data = [
        {
            "name": name,
            "title": cls.title or name,
            "module": cls.__module__,
            "covers": sorted(cls.couriers) if cls.couriers else ["*"],
            "routed_couriers": sorted(routed.get(name, [])),
            "batch_size": cls.batch_size,
            "rate_limit": cls.rate_limit,
            "min_interval_minutes": cls.min_interval.total_seconds() / 60,
            "default": name == settings.tracking.provider,
        }
        for name, cls in sorted(registry.adapters.items())
    ]
    failed = [{"name": name, "error": error} for name, error in sorted(registry.failed.items())]
    if args.json:
        emit_json({"adapters": data, "failed": failed})
        return 0
    out = console()
    rows = [
        (d["name"] + (" (default)" if d["default"] else ""), d["title"], ", ".join(d["covers"]),
         ", ".join(d["routed_couriers"]), d["batch_size"], d["rate_limit"] or "-", f"{d['min_interval_minutes']:g}")
        for d in data
    ]
    out.print(table(["adapter", "title", "covers", "routed here", "batch", "req/s", "min interval (min)"], rows))
    for f in failed:
        out.print(f"[red]failed to load[/red] {f['name']}: {f['error']}")
    return 0


def cmd_coverage(args: argparse.Namespace) -> int:
    from carriers.couriers import UnknownCourier
    from watcher.coverage import check_coverage

    app = _app(args)
    try:
        answer = check_coverage(app.db, app.settings, args.carrier, args.address)
    except UnknownCourier as exc:
        raise InputError(str(exc)) from None
    if args.json:
        emit_json(answer.as_dict())
        return 0
    verdict = {False: "NOT served", True: "served", None: "unknown"}[answer.served]
    out = console()
    out.print(f"{answer.courier} → {answer.area}: {verdict}")
    for reason in answer.reasons:
        out.print(f"  - {reason}")
    for s in answer.suggestions:
        out.print(f"  try {s.courier}: {s.why}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from datetime import date

    from watcher.report import generate, record_run, render

    day = None
    if args.date:
        try:
            day = date.fromisoformat(args.date)
        except ValueError:
            raise InputError(f"--date: expected YYYY-MM-DD, got {args.date!r}") from None
    if args.send:
        if args.output or day is not None:
            raise InputError("--send writes the dated files of report.output_dir for now: drop --output/--date")
        return _send_report(args)
    app = _app(args)
    now = app.clock.now()
    report = generate(app.db, app.settings, now=now, day=day)
    text = render(report, args.format)
    if args.output:
        path = Path(args.output)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="")
        except OSError as exc:
            raise InputError(f"--output: cannot write {path}: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(text)  # CSV keeps its BOM: `report --format csv > x.csv` opens in Excel
    if day is None:
        record_run(app.db, generated_at=now, fmt=args.format, entries=len(report.entries))
    if args.output:
        print(f"report: {len(report.entries)} flagged entries -> {args.output}", file=sys.stderr)
    return 0


def _send_report(args: argparse.Namespace) -> int:
    from watcher.report.nightly import build_notifier, run_nightly

    app = _app(args)
    notifier = build_notifier(app.settings)  # bad URLs: ConfigError before anything is written
    try:
        result = run_nightly(app.db, app.settings, now=app.clock.now(), notifier=notifier)
    except OSError as exc:
        raise InputError(f"report.output_dir: cannot write {app.settings.report.output_dir}: "
                         f"{exc.strerror or exc}") from None
    names = ", ".join(str(p) for p in result.files.values())
    print(f"report: {len(result.report.entries)} flagged entries -> {names}", file=sys.stderr)
    if notifier is None:
        print("report.notify is empty: nothing sent", file=sys.stderr)
    for d in result.deliveries:
        files = " with files" if d.attachments else ""
        print(f"{'sent' if d.ok else 'FAILED'}: {d.destination}{files} ({d.attempts} attempt(s))", file=sys.stderr)
    return 0 if result.delivered else 1


def cmd_ack(args: argparse.Namespace) -> int:
    from watcher.report import acknowledge

    app = _app(args)
    parcel, acks = acknowledge(app.db, args.number, note=args.note, by=args.by, now=app.clock.now(),
                               carrier=args.carrier, flag=args.flag)
    if args.json:
        emit_json({"tracking_number": parcel.tracking_number, "carrier": parcel.courier,
                   "flags": [a.flag for a in acks], "note": acks[0].note, "by": acks[0].by,
                   "created_at": acks[0].created_at})
    else:
        print(f"acknowledged: {parcel.courier} {parcel.tracking_number} ({', '.join(a.flag for a in acks)})")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from watcher.demo import run_demo

    return run_demo(config=args.config, db_path=Path(args.db), days=args.days, as_json=args.json)


def cmd_db(args: argparse.Namespace) -> int:
    from watcher.store.db import Database

    if args.db_verb == "purge":
        return _purge(args)
    settings = load_settings(args.config)
    db = Database(settings.database.url)
    before, after = db.upgrade()
    print(f"database {db.safe_url}: {before or 'empty'} -> {after}" if before != after else f"database {db.safe_url}: up to date ({after})")
    return 0


def _purge(args: argparse.Namespace) -> int:
    from watcher.store.retention import purge_personal_data

    app = _app(args)
    days = app.settings.database.retention_days
    result = purge_personal_data(app.db, now=app.clock.now(), retention_days=days)
    if days <= 0:
        print("database.retention_days is 0: buyer data is kept forever, nothing erased", file=sys.stderr)
    else:
        print(f"erased buyer data of {result.parcels} parcels and {result.notices} notice texts "
              f"(finished before {result.before:%Y-%m-%d}, {days} days ago)", file=sys.stderr)
    return 0


_VERBS: dict[str, Callable[[argparse.Namespace], int]] = {
    "import": cmd_import, "add": cmd_add, "poll": cmd_poll, "run": cmd_run, "serve": cmd_serve, "list": cmd_list,
    "show": cmd_show, "notices": cmd_notices, "coverage": cmd_coverage, "carriers": cmd_carriers, "demo": cmd_demo, "db": cmd_db,
    "report": cmd_report, "ack": cmd_ack,
}


def dispatch(args: argparse.Namespace) -> int:
    return _VERBS[args.verb](args)
