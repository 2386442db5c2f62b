"""The nightly stall report (issue 6): flagged parcels by section, flag and courier.

``generate(db, settings, now=…, date=…)`` reads the store once
(:mod:`watcher.report.data`), builds a :class:`Report` (pure,
:mod:`watcher.report.build`) and :mod:`watcher.report.formats` renders it.

"New since the last report" is measured against the ``report_run`` table: every
report generated for *now* (not for a past ``--date``) records its time there.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from watcher.report.build import Report, build_report
from watcher.report.calls import CallNumber, call_list, extract_numbers
from watcher.report.data import acknowledge, load_scorecard_rows, load_snapshot, record_run
from watcher.report.scorecard import Scorecard, build_scorecard
from watcher.report.formats import FORMATS, render
from watcher.settings import Settings
from watcher.store.db import Database

__all__ = [
    "Report", "CallNumber", "FORMATS", "generate", "render", "acknowledge", "record_run", "report_window",
    "call_list", "extract_numbers", "build_report", "build_scorecard", "Scorecard",
]


def report_window(settings: Settings, now: datetime, day: date | None = None) -> tuple[datetime, datetime]:
    """(as_of, start of that shop-local day), both UTC.  ``day``: the end of that day, or now if sooner."""
    tz = settings.shop.tz
    if day is None:
        local_day = now.astimezone(tz).date()
        as_of = now
    else:
        local_day = day
        end = datetime.combine(day + timedelta(days=1), time(), tz) - timedelta(microseconds=1)
        as_of = min(end.astimezone(now.tzinfo), now)
    start = datetime.combine(local_day, time(), tz).astimezone(now.tzinfo)
    return as_of, start


def generate(db: Database, settings: Settings, *, now: datetime, day: date | None = None) -> Report:
    as_of, day_start = report_window(settings, now, day)
    snapshot = load_snapshot(db, as_of=as_of, day_start=day_start)
    days = settings.report.scorecard_days
    since = as_of - timedelta(days=days)
    scorecard = build_scorecard(load_scorecard_rows(db, since=since, until=as_of), since=since, until=as_of,
                                days=days, min_parcels=settings.report.scorecard_min_parcels)
    return build_report(snapshot, shop=settings.shop.name, timezone=settings.shop.timezone,
                        unmask_call_list=settings.report.unmask_call_list,
                        unmask_buyer_phones=settings.report.unmask_buyer_phones, scorecard=scorecard,
                        language=settings.report.language)
