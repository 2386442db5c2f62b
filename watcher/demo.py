"""``parcelwatch demo``: a self-contained run on the simulated carrier.

Imports the sample parcels, then advances a simulated clock through several
days, polling every few hours, and shows each parcel moving through its
statuses.  Uses its own SQLite file (recreated each run), never ``database.url``.
"""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from watcher.app import App
from watcher.channels import build_channels
from watcher.dispatcher import Dispatcher
from watcher.followups import plan_daily_follow_ups
from watcher.cli.output import console, emit_json, local_time, table
from watcher.clock import ManualClock
from watcher.errors import ConfigError
from watcher.report.formats import render, report_dict
from watcher.report.nightly import run_nightly
from watcher.settings import load_settings, parse_hhmm
from watcher.store import queries
from watcher.views import notice_view, parcel_summary

__all__ = ["run_demo", "DEMO_PARCELS", "DEMO_START"]

DEMO_PARCELS = Path(__file__).resolve().parent.parent / "config" / "demo-parcels.csv"
#: shop-local start of the simulated week (naive: interpreted in shop.timezone)
DEMO_START = datetime(2026, 11, 20, 6, 0)
STEP = timedelta(hours=6)


def _fresh_sqlite(path: Path) -> str:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def run_demo(*, config: str | None, db_path: Path, days: int = 7, as_json: bool = False) -> int:
    from watcher.intake import import_csv
    from watcher.poller import Poller

    if days < 1:
        raise ConfigError("demo --days must be at least 1")
    if not DEMO_PARCELS.is_file():
        raise ConfigError(f"demo data not found at {DEMO_PARCELS} (run the demo from a source checkout)")
    settings = load_settings(
        config,
        overrides={"tracking": {"provider": "simulated", "routes": {}}, "notices": {"channels": ["console"]},
                   "report": {"notify": [], "output_dir": str(db_path.parent / "reports-demo")}},
    )
    tz = settings.shop.tz
    clock = ManualClock(DEMO_START.replace(tzinfo=tz))
    app = App(settings, clock=clock, database_url=_fresh_sqlite(db_path))
    out = console()
    report = import_csv(DEMO_PARCELS, db=app.db, shop_tz=tz, now=clock.now())
    if not as_json:
        out.print(f"[bold]parcelwatch demo[/bold] — {settings.shop.name}, simulated carrier, database {db_path}")
        out.print(f"imported {report.added} sample parcels ({len(report.errors)} rejected)")
        for error in report.errors:
            out.print(f"  [red]{error}[/red]")

    poller = Poller(app.db, settings, registry=app.registry, clock=clock)
    console_out = io.StringIO() if as_json else None  # JSON mode: keep stdout parseable
    channels = build_channels(settings, clock=clock, console={"stream": console_out} if console_out else {})
    dispatcher = Dispatcher(app.db, settings, channels, clock=clock)
    follow_up_at = parse_hhmm(settings.notices.follow_up_at)
    cycles: list[dict[str, Any]] = []

    async def simulate() -> None:
        statuses = {p.id: p.status for p in queries.list_parcels(app.db)}
        end = clock.now() + timedelta(days=days)
        try:
            while clock.now() < end:
                summary = await poller.run_cycle()
                changes = []
                for p in queries.list_parcels(app.db):
                    if statuses.get(p.id) != p.status:
                        changes.append((p, statuses.get(p.id, "pending")))
                        statuses[p.id] = p.status
                if not as_json and changes:
                    _print_cycle(out, clock.now(), changes, tz)
                if clock.now().astimezone(tz).time() >= follow_up_at:
                    plan_daily_follow_ups(app.db, settings, clock.now())
                sent = await dispatcher.drain()  # the console channel prints each notice
                cycles.append({"at": clock.now(), **summary.as_dict(), "changes": len(changes),
                               "notices": sent.as_dict()})
                clock.advance(STEP)
        finally:
            await poller.aclose()
            await dispatcher.aclose()

    asyncio.run(simulate())
    parcels = queries.list_parcels(app.db)
    counts = queries.status_counts(app.db)
    nightly = run_nightly(app.db, settings, now=clock.now())  # what ops would read tonight
    if as_json:
        emit_json({"cycles": cycles, "status_counts": counts, "parcels": [parcel_summary(p) for p in parcels],
                   "notices": [notice_view(n, p) for n, p in queries.list_notices(app.db)],
                   "report": report_dict(nightly.report)})
        return 0
    rows = [
        (p.tracking_number, p.courier, p.status, ",".join(p.flag_list()), p.city or "",
         local_time(p.last_checkpoint_at, tz), (p.last_checkpoint_text or p.problem or "")[:40])
        for p in parcels
    ]
    out.print(table(["number", "carrier", "status", "flags", "city", "last scan", "last checkpoint"], rows,
                    title=f"after {days} simulated days"))
    out.print("statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])))
    flagged = Counter(flag for p in parcels for flag in p.flag_list())
    by_state = Counter(n.state for n, _ in queries.list_notices(app.db))
    out.print("buyer notices: " + ", ".join(f"{k} {v}" for k, v in sorted(by_state.items())))
    out.print("flagged for ops: " + (", ".join(f"{k} {v}" for k, v in sorted(flagged.items())) or "none"))
    out.print("\n[bold]the stall report ops read tonight[/bold]")
    out.print(render(nightly.report, "text"), markup=False, highlight=False, soft_wrap=True)
    out.print("report files: " + ", ".join(str(p) for p in nightly.files.values()))
    out.print(f"explore it: .venv/bin/parcelwatch --config config/demo.toml list   (database: {db_path})")
    return 0


def _print_cycle(out: Any, now: datetime, changes: list[tuple[Any, str]], tz: Any) -> None:
    out.print(f"\n[bold]{local_time(now, tz)}[/bold]  poll: {len(changes)} parcels changed status")
    for parcel, before in changes:
        text = (parcel.last_checkpoint_text or parcel.problem or "")[:50]
        out.print(f"  {parcel.tracking_number:<28} {before:>24} → {parcel.status:<24} {text}")
