"""watcher.rules.calendar: holiday and peak-day hours of a waiting window.

Dates below are the ones chinese_calendar 1.11.0 ships (checked against the library in
``test_library_facts_these_tests_rely_on``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from structlog.testing import capture_logs

import watcher.rules.calendar as calendar_module
from watcher.rules.calendar import (
    DEFAULT_PEAKS,
    Extension,
    HolidayCalendar,
    PeakPeriod,
    holiday_label,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NO_PEAKS: tuple[PeakPeriod, ...] = ()


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _fresh_warnings() -> Iterator[None]:
    calendar_module._forget_warned_years()
    yield
    calendar_module._forget_warned_years()


@pytest.fixture
def cal() -> HolidayCalendar:
    return HolidayCalendar(SHANGHAI)


def year_unknown_events(logs: list[dict[str, object]]) -> list[dict[str, object]]:
    return [entry for entry in logs if entry["event"] == "calendar.year_unknown"]


# -- the library ---------------------------------------------------------------------------------


def test_library_facts_these_tests_rely_on() -> None:
    detail = chinese_calendar.get_holiday_detail
    assert detail(date(2025, 11, 1)) == (True, None)  # plain Saturday: holiday flag, no name
    assert detail(date(2025, 9, 28)) == (False, "National Day")  # 调休 working Sunday: named, not a holiday
    assert detail(date(2026, 2, 14)) == (False, "Spring Festival")  # 调休 working Saturday
    assert [detail(date(2026, 2, d)) for d in range(15, 24)] == [(True, "Spring Festival")] * 9
    assert detail(date(2026, 2, 24)) == (False, None)
    assert detail(date(2025, 10, 6)) == (True, "Mid-autumn Festival")  # inside the National Day break
    with pytest.raises(NotImplementedError, match="2027"):
        detail(date(2027, 1, 1))


def test_public_names_are_pinned() -> None:
    assert sorted(calendar_module.__all__) == [
        "DEFAULT_PEAKS",
        "Extension",
        "HolidayCalendar",
        "PeakPeriod",
        "holiday_label",
    ]


# -- single days ----------------------------------------------------------------------------------


def test_is_holiday_returns_the_english_name(cal: HolidayCalendar) -> None:
    assert cal.is_holiday(date(2026, 2, 17)) == "Spring Festival"
    assert cal.is_holiday(date(2025, 10, 1)) == "National Day"
    assert cal.is_holiday(date(2025, 10, 6)) == "Mid-autumn Festival"
    assert cal.is_holiday(date(2025, 11, 1)) is None  # plain Saturday
    assert cal.is_holiday(date(2025, 9, 28)) is None  # 调休 working Sunday
    assert cal.is_holiday(date(2025, 11, 11)) is None  # peak, not a holiday


def test_holiday_labels_are_chinese() -> None:
    assert holiday_label("Spring Festival") == "春节"
    assert holiday_label("National Day") == "国庆节"
    assert holiday_label("Mid-autumn Festival") == "中秋"
    assert holiday_label("Dragon Boat Festival") == "端午"
    assert holiday_label("New Year's Day") == "元旦"
    assert holiday_label("Some Future Day") == "Some Future Day"


def test_is_peak(cal: HolidayCalendar) -> None:
    assert cal.is_peak(date(2025, 11, 10)) is None
    assert cal.is_peak(date(2025, 11, 11)) == PeakPeriod((11, 11), (11, 15))
    assert cal.is_peak(date(2025, 11, 15)) == PeakPeriod((11, 11), (11, 15))
    assert cal.is_peak(date(2025, 11, 16)) is None
    assert cal.is_peak(date(2025, 6, 18)) == PeakPeriod((6, 18), (6, 20))
    assert cal.is_peak(date(2025, 12, 14)) == PeakPeriod((12, 12), (12, 14))
    assert cal.is_peak(date(2031, 11, 12)) is not None  # every year


def test_holidays_can_be_switched_off() -> None:
    cal = HolidayCalendar(SHANGHAI, holidays=False)
    assert cal.is_holiday(date(2025, 10, 1)) is None
    ext = cal.extension(sh(2025, 10, 1), sh(2025, 10, 2))
    assert ext == Extension(0.0, 0.0, 0.0, ())


# -- holidays ------------------------------------------------------------------------------------


def test_spring_festival_2026(cal: HolidayCalendar) -> None:
    # Feb 14 (Sat) is a 调休 working day; Feb 15–23 are the nine holiday days.
    ext = cal.extension(sh(2026, 2, 13, 10), sh(2026, 2, 25, 10))
    assert ext == Extension(hours=216.0, holiday_hours=216.0, peak_hours=0.0, reasons=("春节",))


def test_national_day_2025_includes_mid_autumn(cal: HolidayCalendar) -> None:
    # Oct 1–8 are off; Oct 6 is Mid-autumn inside the break; Sep 28 and Oct 11 are 调休 working days.
    ext = cal.extension(sh(2025, 9, 27), sh(2025, 10, 12))
    assert ext.holiday_hours == 8 * 24
    assert ext.hours == 8 * 24
    assert ext.peak_hours == 0
    assert ext.reasons == ("国庆节", "中秋")
    assert ext.unknown_years == ()


def test_plain_weekend_does_not_extend(cal: HolidayCalendar) -> None:
    # Sat 2025-11-01 and Sun 2025-11-02
    assert cal.extension(sh(2025, 10, 31, 18), sh(2025, 11, 3, 9)) == Extension(0.0, 0.0, 0.0, ())


def test_tiaoxiu_working_sunday_does_not_extend(cal: HolidayCalendar) -> None:
    assert cal.extension(sh(2025, 9, 28), sh(2025, 9, 29)).hours == 0
    assert cal.extension(sh(2026, 2, 14), sh(2026, 2, 15)).hours == 0  # working Saturday before 春节


def test_partial_days_at_both_ends(cal: HolidayCalendar) -> None:
    # 18:00 on Oct 1 leaves 6 h of that holiday; 03:30 into Oct 2 adds 3.5 h.
    ext = cal.extension(sh(2025, 10, 1, 18), sh(2025, 10, 2, 3, 30))
    assert ext.hours == pytest.approx(9.5)
    # Sep 30 (working day) 12:00 → Oct 8 (last holiday) 06:00: Oct 1–7 whole, 6 h of Oct 8.
    ext = cal.extension(sh(2025, 9, 30, 12), sh(2025, 10, 8, 6))
    assert ext.holiday_hours == 7 * 24 + 6
    # the last holiday evening into the first working morning: 4 h of Oct 8, none of Oct 9
    assert cal.extension(sh(2025, 10, 8, 20), sh(2025, 10, 9, 10)).hours == 4


def test_window_wholly_outside(cal: HolidayCalendar) -> None:
    ext = cal.extension(sh(2025, 3, 3, 8), sh(2025, 3, 20, 8))
    assert ext == Extension(0.0, 0.0, 0.0, ())


def test_window_ending_at_midnight_does_not_touch_the_next_day(cal: HolidayCalendar) -> None:
    # ends exactly where National Day begins; starts exactly where it ends
    assert cal.extension(sh(2025, 9, 29), sh(2025, 10, 1)).hours == 0
    assert cal.extension(sh(2025, 10, 9), sh(2025, 10, 10)).hours == 0


@pytest.mark.parametrize("delta", [timedelta(0), timedelta(hours=-5)])
def test_empty_or_reversed_window_is_zero(cal: HolidayCalendar, delta: timedelta) -> None:
    start = sh(2025, 10, 2, 12)
    assert cal.extension(start, start + delta) == Extension(0.0, 0.0, 0.0, ())


def test_naive_datetimes_are_refused(cal: HolidayCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.extension(datetime(2025, 10, 1), sh(2025, 10, 2))


# -- peaks ---------------------------------------------------------------------------------------


def test_window_crossing_double_eleven(cal: HolidayCalendar) -> None:
    ext = cal.extension(sh(2025, 11, 10, 12), sh(2025, 11, 16, 12))
    assert ext == Extension(hours=120.0, holiday_hours=0.0, peak_hours=120.0, reasons=("peak 11-11..11-15",))


def test_holiday_and_peak_overlap_counted_once(cal: HolidayCalendar) -> None:
    # 2026: 端午 is Jun 19–21, the 618 peak Jun 18–20 → union Jun 18–21.
    ext = cal.extension(sh(2026, 6, 17), sh(2026, 6, 23))
    assert ext.holiday_hours == 72
    assert ext.peak_hours == 72
    assert ext.hours == 96
    assert ext.reasons == ("peak 06-18..06-20", "端午")  # in order of first appearance


def test_same_day_holiday_and_peak_reasons_holiday_first() -> None:
    cal = HolidayCalendar(SHANGHAI, [PeakPeriod.parse("10-01..10-02")])
    ext = cal.extension(sh(2025, 10, 1), sh(2025, 10, 2))
    assert ext == Extension(hours=24.0, holiday_hours=24.0, peak_hours=24.0, reasons=("国庆节", "peak 10-01..10-02"))


def test_wrapping_peak() -> None:
    peak = PeakPeriod.parse("12-30..01-02")
    cal = HolidayCalendar(SHANGHAI, [peak], holidays=False)
    assert [cal.is_peak(date(2025, 12, d)) for d in (29, 30, 31)] == [None, peak, peak]
    assert [cal.is_peak(date(2026, 1, d)) for d in (1, 2, 3)] == [peak, peak, None]
    assert cal.is_peak(date(2026, 6, 15)) is None
    ext = cal.extension(sh(2025, 12, 29, 12), sh(2026, 1, 4))
    assert ext == Extension(hours=96.0, holiday_hours=0.0, peak_hours=96.0, reasons=("peak 12-30..01-02",))
    # with holidays: 元旦 2026 is Jan 1–3 → union Dec 30 – Jan 3
    ext = HolidayCalendar(SHANGHAI, [peak]).extension(sh(2025, 12, 29, 12), sh(2026, 1, 4))
    assert (ext.hours, ext.holiday_hours, ext.peak_hours) == (120.0, 72.0, 96.0)
    assert ext.reasons == ("peak 12-30..01-02", "元旦")


def test_leap_day_peak_only_in_leap_years() -> None:
    cal = HolidayCalendar(SHANGHAI, [PeakPeriod.parse("02-29..02-29")], holidays=False)
    assert cal.extension(sh(2028, 2, 28), sh(2028, 3, 2)).peak_hours == 24
    assert cal.extension(sh(2027, 2, 27), sh(2027, 3, 2)).peak_hours == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("11-11..11-15", PeakPeriod((11, 11), (11, 15))),
        ("11-11:11-15", PeakPeriod((11, 11), (11, 15))),
        (" 6-18 .. 6-20 ", PeakPeriod((6, 18), (6, 20))),
        ("12-30..01-02", PeakPeriod((12, 30), (1, 2))),
        ("02-29..03-01", PeakPeriod((2, 29), (3, 1))),
    ],
)
def test_peak_parse(text: str, expected: PeakPeriod) -> None:
    assert PeakPeriod.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("11-11", "MM-DD..MM-DD"),
        ("", "MM-DD..MM-DD"),
        ("11/11..11/15", "MM-DD..MM-DD"),
        ("11-11..11-15..11-16", "MM-DD..MM-DD"),
        ("双十一", "MM-DD..MM-DD"),
        ("13-01..13-02", "13-01 is not a calendar day"),
        ("02-30..03-01", "02-30 is not a calendar day"),
        ("11-11..11-31", "11-31 is not a calendar day"),
    ],
)
def test_peak_parse_errors_name_the_text(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        PeakPeriod.parse(text)
    assert repr(text) in str(caught.value)


def test_peak_constructor_validates() -> None:
    with pytest.raises(ValueError, match="not a calendar day"):
        PeakPeriod((4, 31), (5, 1))
    with pytest.raises(ValueError, match="pair of integers"):
        PeakPeriod([11, 11], (11, 15))  # type: ignore[arg-type]


def test_default_peaks() -> None:
    assert [str(p) for p in DEFAULT_PEAKS] == ["11-11..11-15", "12-12..12-14", "06-18..06-20"]


# -- unknown years -------------------------------------------------------------------------------


def test_unknown_year_degrades_and_warns_once(cal: HolidayCalendar) -> None:
    with capture_logs() as logs:
        # National Day 2027 is surely a holiday, but the library does not know 2027 yet.
        ext = cal.extension(sh(2027, 9, 30), sh(2027, 10, 8))
        assert ext == Extension(0.0, 0.0, 0.0, (), unknown_years=(2027,))
        # peaks still apply in an unknown year
        ext = cal.extension(sh(2027, 11, 10, 12), sh(2027, 11, 16, 12))
        assert ext == Extension(120.0, 0.0, 120.0, ("peak 11-11..11-15",), unknown_years=(2027,))
        for _ in range(50):
            cal.extension(sh(2027, 1, 1), sh(2027, 2, 1))
            assert cal.is_holiday(date(2027, 10, 1)) is None
        HolidayCalendar(BERLIN).extension(sh(2027, 5, 1), sh(2027, 5, 3))  # another instance, same process
    events = year_unknown_events(logs)
    assert events == [
        {"event": "calendar.year_unknown", "log_level": "warning", "year": 2027, "hint": "upgrade chinese-calendar"}
    ]


def test_window_from_a_known_into_an_unknown_year(cal: HolidayCalendar) -> None:
    with capture_logs() as logs:
        ext = cal.extension(sh(2026, 12, 31), sh(2028, 1, 2))
    assert ext.unknown_years == (2027, 2028)
    assert ext.holiday_hours == 0  # 2026-12-31 is a working day; 2027 and 2028 unknown
    assert ext.peak_hours == 11 * 24  # the three default peaks of 2027
    assert [e["year"] for e in year_unknown_events(logs)] == [2027, 2028]


def test_unknown_year_in_is_holiday_warns_once(cal: HolidayCalendar) -> None:
    with capture_logs() as logs:
        assert cal.is_holiday(date(2030, 1, 1)) is None
        assert cal.is_holiday(date(2030, 1, 2)) is None
    assert [e["year"] for e in year_unknown_events(logs)] == [2030]


def test_known_years_log_nothing(cal: HolidayCalendar) -> None:
    with capture_logs() as logs:
        cal.extension(sh(2025, 1, 1), sh(2026, 12, 31))
    assert logs == []


def test_holidays_off_never_consults_the_library(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(day: date) -> tuple[bool, str | None]:
        raise AssertionError("library consulted")

    monkeypatch.setattr(chinese_calendar, "get_holiday_detail", boom)
    cal = HolidayCalendar(SHANGHAI, holidays=False)
    with capture_logs() as logs:
        assert cal.extension(sh(2027, 11, 1), sh(2027, 12, 1)).unknown_years == ()
    assert logs == []


# -- time zones ----------------------------------------------------------------------------------


def test_day_boundaries_are_in_the_shop_time_zone() -> None:
    # 2025-09-30 16:00–22:00 UTC is Oct 1 00:00–06:00 in Shanghai, Sep 30 18:00–24:00 in Berlin.
    start = datetime(2025, 9, 30, 16, tzinfo=timezone.utc)
    end = datetime(2025, 9, 30, 22, tzinfo=timezone.utc)
    assert HolidayCalendar(SHANGHAI).extension(start, end).holiday_hours == 6
    assert HolidayCalendar(BERLIN).extension(start, end).holiday_hours == 0
    # Berlin's whole Oct 1 (CEST, UTC+2)
    berlin_day = HolidayCalendar(BERLIN).extension(
        datetime(2025, 9, 30, 22, tzinfo=timezone.utc), datetime(2025, 10, 1, 22, tzinfo=timezone.utc)
    )
    assert (berlin_day.holiday_hours, berlin_day.reasons) == (24.0, ("国庆节",))


def test_inputs_in_any_zone_give_the_same_answer(cal: HolidayCalendar) -> None:
    start, end = sh(2025, 10, 1, 18), sh(2025, 10, 2, 3, 30)
    utc = cal.extension(start.astimezone(timezone.utc), end.astimezone(timezone.utc))
    ny = cal.extension(start.astimezone(ZoneInfo("America/New_York")), end.astimezone(BERLIN))
    assert utc == ny == cal.extension(start, end)


def test_dst_days_count_their_real_length() -> None:
    # Berlin falls back on 2025-10-26 (25 h) and springs forward on 2026-03-29 (23 h).
    cal = HolidayCalendar(BERLIN, [PeakPeriod.parse("10-26..10-26"), PeakPeriod.parse("03-29..03-29")])
    fall = cal.extension(datetime(2025, 10, 25, 12, tzinfo=BERLIN), datetime(2025, 10, 27, 12, tzinfo=BERLIN))
    assert fall.peak_hours == 25
    spring = cal.extension(datetime(2026, 3, 28, 12, tzinfo=BERLIN), datetime(2026, 3, 30, 12, tzinfo=BERLIN))
    assert spring.peak_hours == 23
    # Santiago springs forward at midnight itself: 2025-09-07 starts at 01:00 and lasts 23 h.
    santiago = ZoneInfo("America/Santiago")
    cal = HolidayCalendar(santiago, [PeakPeriod.parse("09-07..09-07")])
    ext = cal.extension(datetime(2025, 9, 6, 12, tzinfo=santiago), datetime(2025, 9, 8, 12, tzinfo=santiago))
    assert ext.peak_hours == 23


# -- cost ----------------------------------------------------------------------------------------


def test_cost_is_per_day_and_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[date] = []
    real = chinese_calendar.get_holiday_detail

    def counting(day: date) -> tuple[bool, str | None]:
        calls.append(day)
        return real(day)

    monkeypatch.setattr(chinese_calendar, "get_holiday_detail", counting)
    cal = HolidayCalendar(SHANGHAI)
    ext = cal.extension(sh(2025, 1, 1, 6), sh(2026, 1, 1, 6))  # 366 local days touched
    assert len(calls) == 366
    assert len(set(calls)) == 366
    cal.extension(sh(2025, 3, 1), sh(2025, 4, 1))
    assert len(calls) == 366  # answered from the cache
    # 2025: 元旦 1 + 春节 8 + 清明 3 + 劳动节 5 + 端午 3 + 国庆/中秋 8 = 28 days, 2026-01-01 adds 6 h
    assert ext.holiday_hours == 28 * 24 - 6 + 6
