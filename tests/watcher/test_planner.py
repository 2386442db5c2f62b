"""Planner: which notices a verdict calls for, their keys, quiet hours and the daily cap."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from carriers.base import Status
from watcher.planner import next_day_start, plan_follow_up, plan_notices, quiet_until
from watcher.rules import Flag, Verdict
from watcher.settings import NoticesSettings

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 4, 0, tzinfo=timezone.utc)  # 12:00 Shanghai
DEFAULT = NoticesSettings()


def verdict(stage: str, status: Status = Status.IN_TRANSIT, *flags: Flag) -> Verdict:
    return Verdict(status=status, terminal=status in (Status.DELIVERED, Status.RETURNED), last_checkpoint=None,
                   flags=flags, stage=stage)


def flag(name: str, hours_ago: float = 60) -> Flag:
    return Flag(name, "code", f"{name} reason", NOW - timedelta(hours=hours_ago))


def kinds(v: Verdict, settings: NoticesSettings = DEFAULT) -> list[str]:
    return [p.kind for p in plan_notices(7, v, settings)]


def test_milestones_only_while_current() -> None:
    assert kinds(verdict("transit")) == ["dispatch"]
    assert kinds(verdict("city", Status.ARRIVED_DESTINATION_CITY)) == ["arrived_city"]  # first seen in city: no dispatch
    assert kinds(verdict("delivered", Status.DELIVERED)) == []  # first seen delivered: nothing
    assert kinds(verdict("pickup", Status.AVAILABLE_FOR_PICKUP)) == []
    assert kinds(verdict("pre_collection", Status.PENDING)) == []


def test_problems_plan_their_notices_and_suppress_milestones() -> None:
    assert kinds(verdict("city", Status.EXCEPTION, flag("unreachable"))) == ["unreachable"]
    assert kinds(verdict("transit", Status.IN_TRANSIT, flag("stalled"))) == ["dispatch", "delay"]
    assert kinds(verdict("transit", Status.EXCEPTION, flag("exception"))) == []


def test_keys_are_stable_per_episode() -> None:
    first = plan_notices(7, verdict("transit", Status.IN_TRANSIT, flag("stalled", 60)), DEFAULT)
    again = plan_notices(7, verdict("transit", Status.IN_TRANSIT, flag("stalled", 60)), DEFAULT)
    later_episode = plan_notices(7, verdict("transit", Status.IN_TRANSIT, flag("stalled", 30)), DEFAULT)
    assert [p.idempotency_key for p in first] == [p.idempotency_key for p in again]
    assert first[1].idempotency_key != later_episode[1].idempotency_key
    assert first[0].idempotency_key == "dispatch:7"


def test_kinds_can_be_switched_off() -> None:
    quiet = NoticesSettings(kinds=["delay"])
    assert kinds(verdict("transit", Status.IN_TRANSIT, flag("stalled")), quiet) == ["delay"]


def test_follow_ups_daily_and_bounded() -> None:
    open_case = verdict("transit", Status.IN_TRANSIT, flag("stalled"))
    today = date(2026, 11, 20)
    first = plan_follow_up(7, open_case, sent_for_case=0, today=today, settings=DEFAULT)
    assert first is not None and first.idempotency_key.endswith(":2026-11-20")
    tomorrow = plan_follow_up(7, open_case, sent_for_case=1, today=today + timedelta(days=1), settings=DEFAULT)
    assert tomorrow is not None and tomorrow.idempotency_key != first.idempotency_key
    assert plan_follow_up(7, open_case, sent_for_case=3, today=today, settings=DEFAULT) is None
    assert plan_follow_up(7, verdict("transit"), sent_for_case=0, today=today, settings=DEFAULT) is None


def test_quiet_hours_defer_to_the_end_of_the_window() -> None:
    at = lambda h, m=0: datetime(2026, 11, 20, h, m, tzinfo=SH).astimezone(timezone.utc)  # noqa: E731
    assert quiet_until(at(12), "21:00-08:00", SH) is None
    assert quiet_until(at(21), "21:00-08:00", SH) == at(8) + timedelta(days=1)
    assert quiet_until(at(3), "21:00-08:00", SH) == at(8)
    assert quiet_until(at(7, 59), "21:00-08:00", SH) == at(8)
    assert quiet_until(at(8), "21:00-08:00", SH) is None
    assert quiet_until(at(3), "", SH) is None
    assert quiet_until(at(13), "12:00-14:00", SH) == at(14)  # a window inside one day


def test_next_day_start_respects_quiet_hours() -> None:
    noon = datetime(2026, 11, 20, 12, 0, tzinfo=SH).astimezone(timezone.utc)
    assert next_day_start(noon, "21:00-08:00", SH) == datetime(2026, 11, 21, 8, 0, tzinfo=SH)
    assert next_day_start(noon, "", SH) == datetime(2026, 11, 21, 0, 0, tzinfo=SH)
