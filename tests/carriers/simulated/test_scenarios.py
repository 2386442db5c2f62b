"""Pure trajectory generation: scenario choice, shapes, texts, timing."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from carriers.base import Status
from carriers.simulated.adapter import pick_scenario, scenario_from_number
from carriers.simulated.scenarios import (
    DEFAULT_DESTINATION,
    KIND_STATUS,
    SCENARIO_TABLE,
    SCENARIOS,
    Place,
    build_trace,
    is_remote,
    resolve_destination,
    stable_unit,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 20, 18, 30, tzinfo=SHANGHAI)
SHENZHEN = Place("广东省", "深圳市", "宝安区")

REQUIRED = {
    "normal", "stall_transit", "stall_city", "unreachable", "exception_refused", "exception_damaged", "lost",
    "locker", "never_collected", "failed_attempt_then_delivered", "returned", "remote_slow", "info_only",
}


def test_every_required_scenario_exists() -> None:
    assert REQUIRED <= set(SCENARIOS)


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("SIM-NORMAL-ZT0001", "normal"),
        ("sim-stall_transit-yt0002", "stall_transit"),
        ("SIM-STALL-TRANSIT-0003", "stall_transit"),
        ("SIM-FAILED_ATTEMPT_THEN_DELIVERED-JT9", "failed_attempt_then_delivered"),
        ("  SIM-LOST-1  ", "lost"),
        ("SIM-NOSUCH-1", None),
        ("SIMNORMAL", None),
        ("78812345678901", None),
    ],
)
def test_scenario_from_number(number: str, expected: str | None) -> None:
    assert scenario_from_number(number) == expected


def test_pick_scenario_prefers_override_then_number_then_hash() -> None:
    assert pick_scenario(0, "SIM-LOST-1", overrides={"SIM-LOST-1": "locker"}) == "locker"
    assert pick_scenario(0, "SIM-LOST-1") == "lost"
    drawn = pick_scenario(0, "ZT123")
    assert drawn in SCENARIOS and drawn == pick_scenario(0, "ZT123")


def test_hash_draw_reaches_every_weighted_scenario_and_most_are_normal() -> None:
    counts = Counter(pick_scenario(3, f"YT{i:07d}") for i in range(4000))
    assert {name for name, (weight, _) in SCENARIO_TABLE.items() if weight} == set(counts)
    assert counts["normal"] > 0.45 * 4000
    assert counts.most_common(1)[0][0] == "normal"


def test_drawn_normal_to_remote_destination_becomes_remote_slow() -> None:
    numbers = [f"EM{i:05d}" for i in range(300)]
    plain = [pick_scenario(0, n) for n in numbers]
    remote = [pick_scenario(0, n, remote=True) for n in numbers]
    assert all((r == "remote_slow") == (p == "normal") for p, r in zip(plain, remote))


def test_different_seeds_give_a_different_mix() -> None:
    numbers = [f"ZT{i:06d}" for i in range(200)]
    assert [pick_scenario(0, n) for n in numbers] != [pick_scenario(1, n) for n in numbers]


def test_same_inputs_same_trace_and_seed_changes_it() -> None:
    a = build_trace(0, "zhongtong", "ZT1", START, SHENZHEN, "normal")
    build_trace.cache_clear()
    b = build_trace(0, "zhongtong", "ZT1", START, SHENZHEN, "normal")
    assert a == b
    assert build_trace(1, "zhongtong", "ZT1", START, SHENZHEN, "normal") != a


def test_trace_is_stable_across_processes() -> None:
    code = (
        "from datetime import datetime; from zoneinfo import ZoneInfo;"
        "from carriers.simulated.scenarios import build_trace, Place;"
        "t = build_trace(5, 'yunda', 'YD42', datetime(2026, 11, 20, 9, tzinfo=ZoneInfo('Asia/Shanghai')),"
        " Place('浙江省', '宁波市', '鄞州区'), 'normal');"
        "print([(e.time.isoformat(), e.text) for e in t.events])"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1


def _trace(scenario: str, courier: str = "zhongtong", dest: Place = SHENZHEN, number: str = "N1"):
    return build_trace(0, courier, number, START, dest, scenario)


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("courier", ["zhongtong", "yuantong", "shentong", "yunda", "shunfeng", "jtexpress", "ems", "jd"])
def test_traces_are_well_formed(scenario: str, courier: str) -> None:
    for i in range(5):
        trace = _trace(scenario, courier, number=f"N{i}")
        assert trace.scenario == scenario
        times = [e.time for e in trace.events]
        assert times == sorted(times) and len(set(times)) == len(times)
        assert all(t > START and t.tzinfo is not None for t in times)
        for e in trace.events:
            assert e.status is KIND_STATUS[e.kind]
            assert e.text.strip() and "{" not in e.text and "None" not in e.text
            assert e.city


FINAL = {
    "normal": Status.DELIVERED,
    "remote_slow": Status.DELIVERED,
    "failed_attempt_then_delivered": Status.DELIVERED,
    "locker": Status.AVAILABLE_FOR_PICKUP,
    "stall_transit": Status.IN_TRANSIT,
    "stall_city": Status.ARRIVED_DESTINATION_CITY,
    "unreachable": Status.EXCEPTION,
    "exception_damaged": Status.EXCEPTION,
    "lost": Status.EXCEPTION,
    "exception_refused": Status.RETURNED,
    "returned": Status.RETURNED,
    "info_only": Status.INFO_RECEIVED,
}


@pytest.mark.parametrize(("scenario", "final"), FINAL.items())
def test_final_status_per_scenario(scenario: str, final: Status) -> None:
    for i in range(10):
        assert _trace(scenario, number=f"F{i}").events[-1].status is final


def test_never_collected_has_no_events() -> None:
    assert _trace("never_collected").events == ()


@pytest.mark.parametrize(
    ("scenario", "words"),
    [
        ("unreachable", ("超区", "派送范围")),
        ("exception_refused", ("拒收",)),
        ("exception_damaged", ("破损",)),
        ("lost", ("遗失", "丢失")),
        ("locker", ("驿站", "快递柜", "代收点", "兔喜")),
        ("failed_attempt_then_delivered", ("无人接听",)),
        ("info_only", ("揽收",)),
    ],
)
def test_problem_texts_say_what_happened(scenario: str, words: tuple[str, ...]) -> None:
    for i in range(10):
        texts = " ".join(e.text for e in _trace(scenario, number=f"W{i}").events)
        assert any(w in texts for w in words), texts


RANK = {
    Status.INFO_RECEIVED: 0, Status.COLLECTED: 1, Status.IN_TRANSIT: 2, Status.ARRIVED_DESTINATION_CITY: 3,
    Status.OUT_FOR_DELIVERY: 4, Status.AVAILABLE_FOR_PICKUP: 5, Status.DELIVERED: 6,
}


@pytest.mark.parametrize("scenario", ["normal", "remote_slow", "locker", "stall_city", "failed_attempt_then_delivered"])
def test_forward_statuses_never_go_backwards(scenario: str) -> None:
    for i in range(20):
        ranks = [RANK[e.status] for e in _trace(scenario, number=f"M{i}").events if e.status in RANK]
        assert ranks == sorted(ranks), ranks


def test_returns_go_exception_then_returning_then_returned() -> None:
    for scenario in ("exception_refused", "returned"):
        statuses = [e.status for e in _trace(scenario).events]
        first_exc = statuses.index(Status.EXCEPTION)
        assert set(statuses[first_exc + 1 : -1]) == {Status.RETURNING}
        assert statuses[-1] is Status.RETURNED


def test_destination_city_and_default_city() -> None:
    trace = _trace("normal")
    arrived = [e for e in trace.events if e.status is Status.ARRIVED_DESTINATION_CITY]
    assert [e.city for e in arrived] == ["深圳市"]
    assert trace.events[-1].city == "深圳市"
    default = _trace("normal", dest=Place("", "", ""))
    assert default.events[-1].city == DEFAULT_DESTINATION.city
    assert resolve_destination(Place("四川省", "", "")).city == "成都市"
    assert resolve_destination(Place("", "", ""), "remote_slow").city == "乌鲁木齐市"


def test_normal_takes_about_two_to_four_days_and_remote_longer() -> None:
    dests = [SHENZHEN, Place("北京市", "北京市", "朝阳区"), Place("黑龙江省", "哈尔滨市", "南岗区")]
    normal = [
        (_trace("normal", dest=dests[i % 3], number=f"D{i}").events[-1].time - START) / timedelta(days=1)
        for i in range(60)
    ]
    kashgar = Place("新疆维吾尔自治区", "喀什地区", "喀什市")
    remote = [(_trace("remote_slow", dest=kashgar, number=f"D{i}").events[-1].time - START) / timedelta(days=1)
              for i in range(60)]
    assert 1.5 <= sum(normal) / len(normal) <= 4 and max(normal) <= 5
    assert sum(remote) / len(remote) > sum(normal) / len(normal) + 1.5
    assert is_remote(kashgar) and is_remote(Place("西藏自治区", "拉萨市")) and not is_remote(SHENZHEN)


def test_remote_route_passes_the_gateway_hubs() -> None:
    cities = [e.city for e in _trace("remote_slow", dest=Place("新疆维吾尔自治区", "喀什地区", "喀什市")).events]
    assert "兰州市" in cities and "乌鲁木齐市" in cities


@pytest.mark.parametrize(
    ("courier", "marker"),
    [("zhongtong", "中转部"), ("yuantong", "转运中心"), ("yunda", "分拨中心"), ("shunfeng", "集散中心"),
     ("ems", "邮区中心局"), ("jtexpress", "网点"), ("shentong", "的派件员")],
)
def test_each_courier_writes_in_its_own_style(courier: str, marker: str) -> None:
    texts = " ".join(e.text for e in _trace("normal", courier=courier).events)
    assert marker in texts


def test_municipality_outlets_do_not_repeat_the_city() -> None:
    texts = " ".join(e.text for e in _trace("normal", courier="yunda", dest=Place("上海市", "上海市", "松江区")).events)
    assert "上海上海" not in texts and "上海松江区公司" in texts


def test_stable_unit_is_in_range_and_depends_on_parts() -> None:
    values = [stable_unit(0, "x", i) for i in range(1000)]
    assert all(0 <= v < 1 for v in values) and len(set(values)) == 1000
    assert stable_unit(1, "a") == stable_unit(1, "a") != stable_unit(2, "a")


def test_unknown_scenario_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown scenario"):
        build_trace(0, "zhongtong", "X", START, SHENZHEN, "teleported")
