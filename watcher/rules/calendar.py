"""Holiday and peak-day extensions of stall thresholds.

A stall threshold ("in transit 48 h without a new checkpoint") is extended by the
hours of the waiting window that fall on

- an **official Chinese public holiday** day (春节, 国庆节, 劳动节, 清明, 端午, 中秋,
  元旦 …) as published by the State Council and shipped in the pinned
  ``chinese_calendar`` package, and
- a configured **peak sale** day (by default 11-11..11-15, 12-12..12-14 and
  06-18..06-20, inclusive, every year).

Ordinary weekends do not extend anything (couriers work weekends), and 调休
make-up working days are working days.  A day that is both a holiday and a peak day
is counted once.  Days are local days of the shop's time zone: a window is cut at
local midnight, so a DST day counts 23 or 25 hours.

Holiday names: :meth:`HolidayCalendar.is_holiday` returns the library's English
name (``"Spring Festival"``, ``"National Day"`` …, the values of
``chinese_calendar.Holiday``); :attr:`Extension.reasons` carry the Chinese label
(``"春节"``, ``"国庆节"`` …, see :func:`holiday_label`) and ``"peak MM-DD..MM-DD"``
for peak periods.

Unknown years: ``chinese_calendar`` knows a year only once the State Council has
published it and raises :class:`NotImplementedError` for any other year.  Such
days get no holiday extension (peak periods still apply), the year is reported in
:attr:`Extension.unknown_years`, and one ``calendar.year_unknown`` warning is logged
per year per process.  Nothing here raises because of the calendar data.

Pure apart from a per-instance cache of library look-ups: no clock, no I/O.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Final

import chinese_calendar
import structlog

__all__ = [
    "DEFAULT_PEAKS",
    "Extension",
    "HolidayCalendar",
    "PeakPeriod",
    "holiday_label",
]

log = structlog.get_logger("parcelwatch.rules")

_MONTH_DAY = r"(\d{1,2})-(\d{1,2})"
_PERIOD_RE: Final = re.compile(rf"^\s*{_MONTH_DAY}\s*(?:\.\.|:)\s*{_MONTH_DAY}\s*$")
_ONE_DAY: Final = timedelta(days=1)

#: English name (as returned by ``chinese_calendar``) → Chinese label
_LABELS_ZH: Final[dict[str, str]] = {h.value: h.chinese for h in chinese_calendar.Holiday}


def holiday_label(name: str) -> str:
    """The Chinese label of a ``chinese_calendar`` holiday name (``"Spring Festival"`` →
    ``"春节"``); a name the library does not list is returned unchanged."""
    return _LABELS_ZH.get(name, name)


def _check_month_day(value: object, what: str) -> tuple[int, int]:
    if (
        not isinstance(value, tuple)
        or len(value) != 2
        or not all(isinstance(part, int) and not isinstance(part, bool) for part in value)
    ):
        raise ValueError(f"peak period {what} must be a (month, day) pair of integers, got {value!r}")
    month, day = value
    try:
        date(2000, month, day)  # a leap year, so 02-29 is a valid peak day
    except (ValueError, OverflowError):
        raise ValueError(f"peak period {what} {month:02d}-{day:02d} is not a calendar day") from None
    return month, day


@dataclass(frozen=True, slots=True)
class PeakPeriod:
    """A yearly range of peak sale days, both ends inclusive.

    ``end`` before ``start`` wraps the year end: ``(12, 30)..(1, 2)`` covers
    12-30, 12-31, 01-01 and 01-02 of every year.
    """

    start: tuple[int, int]  # (month, day)
    end: tuple[int, int]  # (month, day), inclusive

    def __post_init__(self) -> None:
        _check_month_day(self.start, "start")
        _check_month_day(self.end, "end")

    @classmethod
    def parse(cls, text: str) -> PeakPeriod:
        """``"11-11..11-15"`` or ``"11-11:11-15"`` (``MM-DD``, inclusive) → a period."""
        match = _PERIOD_RE.match(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(
                f"peak period {text!r} is not of the form 'MM-DD..MM-DD' (or 'MM-DD:MM-DD'), e.g. '11-11..11-15'"
            )
        m1, d1, m2, d2 = (int(group) for group in match.groups())
        try:
            return cls((m1, d1), (m2, d2))
        except ValueError as exc:
            raise ValueError(f"peak period {text!r}: {exc}") from None

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, date):
            return False
        key = (day.month, day.day)
        if self.start <= self.end:
            return self.start <= key <= self.end
        return key >= self.start or key <= self.end

    def __str__(self) -> str:
        return f"{self.start[0]:02d}-{self.start[1]:02d}..{self.end[0]:02d}-{self.end[1]:02d}"


DEFAULT_PEAKS: Final[tuple[PeakPeriod, ...]] = (
    PeakPeriod((11, 11), (11, 15)),  # 双十一
    PeakPeriod((12, 12), (12, 14)),  # 双十二
    PeakPeriod((6, 18), (6, 20)),  # 618
)


@dataclass(frozen=True, slots=True)
class Extension:
    """How much longer a threshold may run because of holidays and peak days."""

    hours: float  # holiday ∪ peak: a day that is both counts once
    holiday_hours: float
    peak_hours: float
    reasons: tuple[str, ...]  # first appearance in the window, no duplicates: ("春节", "peak 11-11..11-15")
    unknown_years: tuple[int, ...] = ()  # years chinese_calendar does not know: no holiday extension there


_NO_EXTENSION: Final = Extension(0.0, 0.0, 0.0, ())

# One warning per unknown year per process, whichever calendar instance meets it first.
_warned_years: set[int] = set()
_warned_lock = threading.Lock()


def _warn_unknown_year(year: int) -> None:
    with _warned_lock:
        if year in _warned_years:
            return
        _warned_years.add(year)
    log.warning("calendar.year_unknown", year=year, hint="upgrade chinese-calendar")


def _forget_warned_years() -> None:
    """Tests only: let the next unknown year warn again."""
    with _warned_lock:
        _warned_years.clear()


_UNKNOWN: Final = object()  # cache marker: the library does not know this day's year


class HolidayCalendar:
    """Official holidays (``chinese_calendar``) and peak periods, by local day of ``tz``."""

    __slots__ = ("_holidays", "_known", "_peaks", "_tz")

    def __init__(self, tz: tzinfo, peaks: Sequence[PeakPeriod] = DEFAULT_PEAKS, *, holidays: bool = True) -> None:
        self._tz = tz
        self._peaks = tuple(peaks)
        self._holidays = holidays
        self._known: dict[date, str | None | object] = {}

    @property
    def tz(self) -> tzinfo:
        return self._tz

    @property
    def peaks(self) -> tuple[PeakPeriod, ...]:
        return self._peaks

    def __repr__(self) -> str:
        peaks = ", ".join(str(p) for p in self._peaks)
        return f"HolidayCalendar(tz={self._tz!s}, peaks=[{peaks}], holidays={self._holidays})"

    # -- single days ---------------------------------------------------------------------------

    def _official(self, day: date) -> str | None | object:
        """The holiday's English name, None for a working day or plain weekend, or _UNKNOWN."""
        try:
            return self._known[day]
        except KeyError:
            pass
        try:
            is_holiday, name = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:  # "no available data for year …"
            result: str | None | object = _UNKNOWN
        else:
            # A plain weekend is (True, None); a 调休 make-up working day is (False, name).
            result = name if is_holiday and name is not None else None
        self._known[day] = result
        return result

    def is_holiday(self, day: date) -> str | None:
        """The English name of the official holiday on ``day`` (``"Spring Festival"``), else None.

        None as well for plain weekends, 调休 working days, when holidays are disabled, and
        for years the installed ``chinese_calendar`` does not know (logged once per year).
        """
        if not self._holidays:
            return None
        if isinstance(day, datetime):
            day = day.date()
        found = self._official(day)
        if found is _UNKNOWN:
            _warn_unknown_year(day.year)
            return None
        return found  # type: ignore[return-value]

    def is_peak(self, day: date) -> PeakPeriod | None:
        """The first configured peak period containing ``day``, else None."""
        if isinstance(day, datetime):
            day = day.date()
        for peak in self._peaks:
            if day in peak:
                return peak
        return None

    # -- windows -------------------------------------------------------------------------------

    def _midnight(self, day: date) -> datetime:
        """Start of the local ``day`` in UTC (a midnight inside a DST gap maps to the day's
        first real instant; ``fold=0`` picks the first of two midnights)."""
        return datetime.combine(day, time(), tzinfo=self._tz).astimezone(timezone.utc)

    def extension(self, start: datetime, end: datetime) -> Extension:
        """Hours of ``[start, end)`` on official holidays or peak days, by local day of ``tz``.

        ``start`` and ``end`` must be timezone-aware; an empty or reversed window gives zero.
        O(days of the window).
        """
        if start.utcoffset() is None or end.utcoffset() is None:
            raise ValueError("HolidayCalendar.extension needs timezone-aware datetimes")
        start_utc, end_utc = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
        if end_utc <= start_utc:
            return _NO_EXTENSION

        holiday_s = peak_s = union_s = 0.0
        reasons: dict[str, None] = {}  # ordered set
        unknown: set[int] = set()

        day = start.astimezone(self._tz).date()
        last = end.astimezone(self._tz).date()
        day_start = self._midnight(day)
        while day <= last:
            next_start = self._midnight(day + _ONE_DAY)
            overlap = (min(end_utc, next_start) - max(start_utc, day_start)).total_seconds()
            if overlap > 0:
                name: str | None = None
                if self._holidays:
                    found = self._official(day)
                    if found is _UNKNOWN:
                        unknown.add(day.year)
                    else:
                        name = found  # type: ignore[assignment]
                peak = self.is_peak(day)
                if name is not None:
                    holiday_s += overlap
                    reasons.setdefault(holiday_label(name))
                if peak is not None:
                    peak_s += overlap
                    reasons.setdefault(f"peak {peak}")
                if name is not None or peak is not None:
                    union_s += overlap
            day, day_start = day + _ONE_DAY, next_start

        for year in sorted(unknown):
            _warn_unknown_year(year)
        return Extension(
            hours=union_s / 3600,
            holiday_hours=holiday_s / 3600,
            peak_hours=peak_s / 3600,
            reasons=tuple(reasons),
            unknown_years=tuple(sorted(unknown)),
        )
