"""The nightly report: dated files in ``report.output_dir`` and a summary to the ops chat.

``run`` calls :func:`run_nightly` at ``report.at`` (shop time); ``parcelwatch report
--send`` does the same once, now.  Steps, in this order so that nothing is lost:

1. generate the report for *now*;
2. write ``stall-report-YYYY-MM-DD.{html,csv,json,txt}`` (the shop-local date), each
   through a temporary file and a rename, so a reader never sees half a file and a
   second run the same day replaces the first;
3. record the run (``report_run``, format ``nightly``): the next report's "new"
   section starts here;
4. when ``report.notify`` lists apprise URLs, send a short text summary with the
   HTML and CSV attached (to services that take files) and, when
   ``report.link_base`` is set, links to them.

A failed delivery is logged with the destination masked and leaves the files in
place; it does not undo the run.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import structlog

from watcher.clock import local_minute
from watcher.report.build import Entry, Report
from watcher.report.data import last_run, record_run
from watcher.report.formats import render
from watcher.report.labels import labels
from watcher.settings import Settings, parse_hhmm
from watcher.store.db import Database

__all__ = ["run_nightly", "write_files", "summary_message", "NightlyResult", "FILE_FORMATS", "NIGHTLY_FORMAT",
           "build_notifier", "scheduled_today", "missed_today"]

log = structlog.get_logger("parcelwatch.report")

#: format → file suffix, in the order written
FILE_FORMATS = {"html": "html", "csv": "csv", "json": "json", "text": "txt"}
#: attached to the ops message
ATTACHED = ("html", "csv")
#: ``report_run.format`` of a nightly run
NIGHTLY_FORMAT = "nightly"
#: entries named in the chat summary, most urgent first
SUMMARY_ENTRIES = 5


@dataclass
class NightlyResult:
    report: Report
    files: dict[str, Path]
    deliveries: list = field(default_factory=list)  # notifiers.apprise_ops.OpsDelivery

    @property
    def delivered(self) -> bool:
        return all(d.ok for d in self.deliveries)


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_files(report: Report, output_dir: Path) -> dict[str, Path]:
    """The report in every format, named by its shop-local date; returns format → path."""
    day = report.as_of.astimezone(ZoneInfo(report.timezone)).date().isoformat()
    output_dir.mkdir(parents=True, exist_ok=True)
    files = {}
    for fmt, suffix in FILE_FORMATS.items():
        path = output_dir / f"stall-report-{day}.{suffix}"
        _atomic_write(path, render(report, fmt).encode("utf-8"))
        files[fmt] = path
    return files


def _urgency(e: Entry) -> tuple[object, ...]:
    return ("claim" not in e.next_actions, e.section != "new", -e.level, -(e.hours_since_update or 0.0))


def summary_message(report: Report, files: dict[str, Path], link_base: str = "") -> tuple[str, str]:
    """(title, body) for the ops chat: counts, the most urgent entries, the files.  Masked like the report."""
    tz = ZoneInfo(report.timezone)
    L = labels(report.language)
    s = report.summary
    title = L["chat_title"].format(shop=report.shop, time=local_minute(report.as_of, tz))
    lines = [
        L["chat_counts"].format(flagged=s["flagged_parcels"], new=s["new"], open=s["open"], in_hand=s["in_hand"],
                                resolved=s["resolved_today"]),
        L["chat_alerts"].format(losses=s["probable_losses"], buyers=s["buyers_to_phone"]),
    ]
    if s["by_flag"]:
        lines.append(f"{L['by_flag']}: " + ", ".join(f"{k} {v}" for k, v in s["by_flag"].items()))
    if s["by_carrier"]:
        lines.append(f"{L['by_carrier']}: " + ", ".join(f"{k} {v}" for k, v in s["by_carrier"].items()))
    todo = sorted((e for e in report.entries if e.section != "in_hand"), key=_urgency)[:SUMMARY_ENTRIES]
    if todo:
        lines += ["", L["first"]]
        for e in todo:
            hours = f" {e.hours_since_update:g} h" if e.hours_since_update is not None else ""
            lines.append(f"- {e.tracking_number} {e.carrier} {e.flag}{hours}: {L['action.' + e.next_actions[0]]}")
    lines += ["", f"{L['files']}: " + ", ".join(p.name for fmt, p in files.items() if fmt in ATTACHED)]
    if link_base:
        base = link_base.rstrip("/") + "/"
        lines += [f"{fmt}: {base}{p.name}" for fmt, p in files.items() if fmt in ATTACHED]
    return title, "\n".join(lines)


def build_notifier(settings: Settings, **kwargs: object):  # -> notifiers.apprise_ops.OpsNotifier | None
    """The ops notifier for ``report.notify``, or None when it lists nothing.  Bad URLs: ConfigError."""
    urls = [u.get_secret_value() for u in settings.report.notify]
    if not urls:
        return None
    from notifiers.apprise_ops import OpsNotifier

    return OpsNotifier(urls, **kwargs)  # type: ignore[arg-type]


def run_nightly(db: Database, settings: Settings, *, now: datetime, notifier: object = None) -> NightlyResult:
    """Generate, write, record, send.  ``notifier``: an OpsNotifier (default: built from settings)."""
    from watcher.report import generate

    report = generate(db, settings, now=now)
    output_dir = Path(settings.report.output_dir)
    files = write_files(report, output_dir)
    record_run(db, generated_at=now, fmt=NIGHTLY_FORMAT, entries=len(report.entries))
    log.info("report.written", entries=len(report.entries), new=report.summary["new"],
             directory=str(output_dir), files=[p.name for p in files.values()])
    result = NightlyResult(report, files)
    if notifier is None:
        notifier = build_notifier(settings)
    if notifier is not None:
        title, body = summary_message(report, files, settings.report.link_base)
        attachments = [files[fmt] for fmt in ATTACHED]
        result.deliveries = notifier.send(title, body, attachments)  # type: ignore[attr-defined]
    return result


def scheduled_today(settings: Settings, now: datetime) -> datetime:
    """Today's (shop-local) ``report.at`` as an aware datetime."""
    tz = settings.shop.tz
    return datetime.combine(now.astimezone(tz).date(), parse_hhmm(settings.report.at), tz)


def missed_today(db: Database, settings: Settings, now: datetime) -> bool:
    """True when today's nightly time has passed and no nightly report was written since:
    the daemon was down at ``report.at``, so ``run`` catches up at start."""
    if not settings.report.at:
        return False  # no nightly report configured
    due = scheduled_today(settings, now)
    if now < due:
        return False
    last = last_run(db, fmt=NIGHTLY_FORMAT)
    return last is None or last < due
