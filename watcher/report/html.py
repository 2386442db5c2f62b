"""The stall report as one self-contained HTML page (``report --format html``).

Lays out what :func:`~watcher.report.build.build_report` computed, masking
included: no field is unmasked or recomputed here.  The page carries its CSS
inline and loads nothing (no script, font, image or stylesheet), so it can be
mailed or opened offline; it reads on a phone (one column of cards) and prints
(no backgrounds, an entry never split across pages).  Jinja2 autoescapes every
value.

Each flagged entry is one ``<article class="entry">`` with ``data-tracking-number``,
``data-carrier``, ``data-flag`` and ``data-section``, so tools and tests can count them.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined

from watcher.clock import local_minute
from watcher.report.build import SECTIONS, Report
from watcher.report.labels import labels, num, pct
from watcher.report.scorecard import RATE_FLAGS

__all__ = ["render_html", "LANG"]

#: the page language: the shop's texts (checkpoints, cities) are Chinese, whatever language the
#: labels are in (report.language), so browsers pick CJK fonts and break lines the Chinese way
LANG = "zh-CN"
#: summary counts, in the order shown: (summary key, label key in watcher.report.labels)
COUNTS = (
    ("flagged_parcels", "flagged"), ("new", "new"), ("open", "open"), ("in_hand", "in_hand"),
    ("resolved_today", "resolved_today"), ("probable_losses", "probable_losses"),
    ("buyer_unreached", "buyer_unreached"), ("buyers_to_phone", "buyers_to_phone"),
)


@cache
def _environment() -> Environment:
    env = Environment(loader=PackageLoader("watcher.report", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["num"] = num
    env.filters["iso"] = lambda value: value.isoformat() if value is not None else ""
    env.filters["tel"] = _tel
    env.filters["pct"] = pct
    return env


def _tel(number: str) -> str | None:
    """``tel:`` target for a dialable number; None for a masked one."""
    if "*" in number:
        return None
    return "tel:" + "".join(ch for ch in number if ch.isdigit() or ch == "+")


def render_html(report: Report) -> str:
    tz = ZoneInfo(report.timezone)

    def local(value: datetime | None) -> str:
        return local_minute(value, tz)

    L = labels(report.language)
    sections: list[dict[str, Any]] = []
    for name in SECTIONS:
        entries = report.section(name)
        sections.append({"name": name, "title": L[f"section.{name}"], "count": len(entries),
                         "groups": report.grouped(entries)})
    template = _environment().get_template("report.html.j2")
    return template.render(
        report=report, lang=LANG, local=local, L=L, counts=COUNTS, sections=sections, rate_flags=RATE_FLAGS,
        resolved_title=L["section.resolved"], resolved_groups=report.grouped(report.resolved),
    )
