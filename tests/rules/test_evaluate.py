"""The verdict: status, flags with reasons and thresholds, milestones — pure, on a fixed clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from carriers.base import Checkpoint, Status, Tracking
from watcher.rules import ParcelFacts, evaluate
from watcher.rules.calendar import HolidayCalendar
from watcher.settings import DetectionSettings

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 9, 10, 2, 0, tzinfo=timezone.utc)  # a plain Thursday, 10:00 in Shanghai
CAL = HolidayCalendar(SHANGHAI)
SZ = dict(province="广东省", city="深圳市", district="宝安区")


def cp(hours_ago: float, text: str, location: str = "", status: Status | None = None, at: datetime = NOW) -> Checkpoint:
    return Checkpoint(time=at - timedelta(hours=hours_ago), text=text, location=location, status=status)


def tracking(status: Status, *cps: Checkpoint) -> Tracking:
    return Tracking(status=status, checkpoints=tuple(sorted(cps, key=lambda c: c.time, reverse=True)), provider="t")


def facts(shipped_hours_ago: float = 80, at: datetime = NOW, **place: str) -> ParcelFacts:
    where = place or SZ
    return ParcelFacts(courier="zhongtong", tracking_number="ZT1", shipped_at=at - timedelta(hours=shipped_hours_ago),
                       created_at=at - timedelta(hours=shipped_hours_ago), **where)


def judge(t: Tracking | None, *, at: datetime = NOW, settings: DetectionSettings | None = None, **kw):  # type: ignore[no-untyped-def]
    return evaluate(facts(at=at, **kw), t, at, CAL, settings or DetectionSettings())


COLLECTED = cp(70, "【杭州市】浙江杭州公司 已揽收", "杭州市")


def test_fresh_parcel_in_transit_is_not_flagged() -> None:
    v = judge(tracking(Status.IN_TRANSIT, COLLECTED, cp(10, "快件离开【杭州转运中心】已发往【深圳转运中心】", "杭州市")))
    assert v.status is Status.IN_TRANSIT and v.flags == () and v.stage == "transit"
    assert v.milestones.collected_at == COLLECTED.time


def test_transit_stall_after_48_hours_with_reason_and_threshold() -> None:
    v = judge(tracking(Status.IN_TRANSIT, COLLECTED, cp(60, "快件已到达【杭州转运中心】", "杭州市")))
    [flag] = v.flags
    assert (flag.name, flag.code, flag.level) == ("stalled", "transit_stall", 1)
    assert flag.hours == pytest.approx(60) and flag.threshold_hours == 48 and flag.extended_by == ()
    assert "contact the courier" in flag.reason


def test_in_city_stall_uses_the_24_hour_threshold() -> None:
    t = tracking(Status.IN_TRANSIT, COLLECTED, cp(30, "【深圳市】快件已到达 深圳宝安公司", "深圳市"))
    v = judge(t)
    assert v.status is Status.ARRIVED_DESTINATION_CITY and v.milestones.arrived_city_at is not None
    assert [(f.name, f.code, f.threshold_hours) for f in v.flags] == [("stalled", "city_stall", 24)]
    # The same scan for a buyer in Guangzhou is a transit hub in another city: 48 h applies.
    assert judge(t, province="广东省", city="广州市", district="天河区").flags == ()


def test_out_for_delivery_then_silence_is_a_city_stall() -> None:
    v = judge(tracking(Status.IN_TRANSIT, COLLECTED, cp(26, "【深圳市】派件员：王师傅 电话：13812345678 正在为您派件")))
    assert v.status is Status.OUT_FOR_DELIVERY and v.flag_names == ("stalled",)


def test_pickup_point_is_never_stalled() -> None:
    v = judge(tracking(Status.IN_TRANSIT, cp(150, "已揽收"), cp(120, "快件已送达【菜鸟驿站】，请凭取件码取件", "深圳市")))
    assert v.status is Status.AVAILABLE_FOR_PICKUP and v.flags == () and v.stage == "pickup"


def test_delivered_is_never_flagged_even_after_trouble() -> None:
    v = judge(tracking(Status.DELIVERED, COLLECTED, cp(40, "收件人电话无人接听，派送不成功"),
                       cp(20, "您的快件已签收，签收人：本人")))
    assert v.status is Status.DELIVERED and v.terminal and v.flags == ()


def test_failed_attempt_then_moving_again_is_history() -> None:
    v = judge(tracking(Status.IN_TRANSIT, COLLECTED, cp(30, "收件人地址不详，无法派送", "深圳市"),
                       cp(2, "【深圳市】快件正在派送中，派件员：李四", "深圳市")))
    assert v.flags == () and v.status is Status.OUT_FOR_DELIVERY


@pytest.mark.parametrize(
    ("text", "flag", "code"),
    [
        ("该地址超出派送范围，无法派送", "unreachable", "out_of_area"),
        ("【甘孜藏族自治州】偏远地区不派送，已转邮政", "unreachable", "out_of_area"),
        ("客户拒收，快件退回中", "exception", "refused"),
        ("快件外包装破损，已联系寄件人", "exception", "damaged"),
        ("收件人电话号码错误，无法联系", "exception", "address_problem"),
        ("很抱歉，您的快件在运输途中遗失", "exception", "lost"),
    ],
)
def test_problems_raise_the_flag_of_their_cause(text: str, flag: str, code: str) -> None:
    v = judge(tracking(Status.EXCEPTION, COLLECTED, cp(5, text, "深圳市")))
    assert [(f.name, f.code) for f in v.flags] == [(flag, code)]
    assert v.flags[0].reason == text


def test_out_of_area_then_sent_back_stays_unreachable() -> None:
    v = judge(tracking(Status.RETURNING, COLLECTED, cp(40, "该地址不在派送范围内"),
                       cp(30, "快件已退回，正在返回寄件人"), cp(10, "快件离开【深圳转运中心】已发往【杭州】")))
    assert [(f.name, f.code) for f in v.flags] == [("unreachable", "out_of_area")]


def test_refused_and_returned_to_sender_is_an_exception_and_terminal() -> None:
    v = judge(tracking(Status.RETURNED, COLLECTED, cp(60, "客户拒收"), cp(40, "快件已退回"),
                       cp(3, "退回件已签收，签收人：寄件人")))
    assert v.status is Status.RETURNED and v.terminal
    assert [(f.name, f.code) for f in v.flags] == [("exception", "refused")]


def test_not_collected_after_24_hours_without_a_scan() -> None:
    assert judge(None, shipped_hours_ago=10).flags == ()
    v = judge(None, shipped_hours_ago=30)
    [flag] = v.flags
    assert (flag.name, flag.code, flag.threshold_hours) == ("not_collected", "no_collection_scan", 24)
    info_only = tracking(Status.INFO_RECEIVED, cp(38, "商家已通知快递揽收，等待揽收", status=Status.INFO_RECEIVED))
    assert judge(info_only, shipped_hours_ago=40).flag_names == ("not_collected",)


def test_remote_destination_gets_24_more_hours() -> None:
    t = tracking(Status.IN_TRANSIT, COLLECTED, cp(60, "快件已到达【乌鲁木齐转运中心】", "乌鲁木齐市"))
    kashgar = dict(province="新疆维吾尔自治区", city="喀什地区", district="喀什市")
    v = judge(t, **kashgar)
    assert v.remote and v.flags == ()
    later = tracking(Status.IN_TRANSIT, cp(90, "已揽收"), cp(75, "快件已到达【乌鲁木齐转运中心】", "乌鲁木齐市"))
    [flag] = judge(later, **kashgar).flags
    assert flag.threshold_hours == 72 and "remote destination" in flag.extended_by


def test_probably_lost_after_five_days_stays_stalled_at_level_2() -> None:
    [flag] = judge(tracking(Status.IN_TRANSIT, cp(140, "已揽收"), cp(130, "快件已到达【杭州转运中心】"))).flags
    assert (flag.name, flag.level) == ("stalled", 2) and "claim" in flag.reason


def test_spring_festival_extends_the_threshold() -> None:
    # Last scan on 2026-02-13 (before 春节 Feb 15-23); judged on 2026-02-20: 7 days later,
    # of which the holiday covers most — not stalled yet; the same gap in March is a stall.
    at = datetime(2026, 2, 20, 4, 0, tzinfo=timezone.utc)
    t = tracking(Status.IN_TRANSIT, cp(170, "已揽收", at=at), cp(160, "快件已到达【杭州转运中心】", at=at))
    v = evaluate(facts(at=at), t, at, CAL, DetectionSettings())
    assert v.flags == ()
    march = datetime(2026, 3, 20, 4, 0, tzinfo=timezone.utc)
    t2 = tracking(Status.IN_TRANSIT, cp(170, "已揽收", at=march), cp(160, "快件已到达【杭州转运中心】", at=march))
    [flag] = evaluate(facts(at=march), t2, march, CAL, DetectionSettings()).flags
    assert flag.name == "stalled" and flag.extended_by == ()


def test_peak_days_extend_and_are_named() -> None:
    at = datetime(2026, 11, 14, 4, 0, tzinfo=timezone.utc)  # 双十一 peak (11-11..11-15)
    t = tracking(Status.IN_TRANSIT, cp(80, "已揽收", at=at), cp(70, "快件已到达【杭州转运中心】", at=at))
    v = evaluate(facts(at=at), t, at, CAL, DetectionSettings())
    assert v.flags == ()
    without = evaluate(facts(at=at), t, at, HolidayCalendar(SHANGHAI, peaks=()), DetectionSettings())
    [flag] = without.flags
    assert flag.name == "stalled"


def test_thresholds_are_configurable() -> None:
    t = tracking(Status.IN_TRANSIT, COLLECTED, cp(30, "快件已到达【杭州转运中心】"))
    assert judge(t).flags == ()
    assert judge(t, settings=DetectionSettings(transit_hours=24)).flag_names == ("stalled",)


def test_unknown_text_falls_back_to_the_provider_status() -> None:
    v = judge(tracking(Status.OUT_FOR_DELIVERY, COLLECTED, cp(1, "XYZ-42", status=Status.OUT_FOR_DELIVERY)))
    assert v.status is Status.OUT_FOR_DELIVERY


def test_verdict_serializes_for_the_store() -> None:
    v = judge(tracking(Status.IN_TRANSIT, COLLECTED, cp(60, "快件已到达【杭州转运中心】")))
    data = v.as_dict(NOW)
    assert data["flags"][0]["flag"] == "stalled" and data["flags"][0]["hours"] == 60.0
    assert data["evaluated_at"] == NOW.isoformat() and data["milestones"]["collected_at"]


def test_time_zones_do_not_change_the_arithmetic() -> None:
    # A shop in Berlin judging a trace whose times came back in China time: same hours, same flag.
    berlin = HolidayCalendar(ZoneInfo("Europe/Berlin"), peaks=())
    china = timezone(timedelta(hours=8))
    last = (NOW - timedelta(hours=50)).astimezone(china)
    t = tracking(Status.IN_TRANSIT, Checkpoint(time=last - timedelta(hours=5), text="已揽收"),
                 Checkpoint(time=last, text="快件已到达【杭州转运中心】"))
    [flag] = evaluate(facts(), t, NOW, berlin, DetectionSettings()).flags
    assert flag.name == "stalled" and flag.hours == pytest.approx(50)
    assert flag.since.utcoffset() == timedelta(hours=8)  # times keep their zone; hours are absolute
