"""SimulatedCarrier: revealing over time, problems, fail_rate, settings."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from carriers.base import ProblemKind, Status, TrackingQuery, TrackingResult
from carriers.simulated import SimulatedCarrier
from carriers.simulated.adapter import DEFAULT_EPOCH
from carriers.simulated.scenarios import SCENARIOS
from watcher.clock import ManualClock
from watcher.errors import ConfigError, ProviderTransient

SHANGHAI = ZoneInfo("Asia/Shanghai")
SHIPPED = datetime(2026, 11, 20, 18, 30, tzinfo=SHANGHAI)


def query(number: str, courier: str = "zhongtong", **kw: object) -> TrackingQuery:
    fields: dict[str, object] = {"shipped_at": SHIPPED, "province": "广东省", "city": "深圳市", "district": "宝安区"}
    fields.update(kw)
    return TrackingQuery(courier, number, **fields)  # type: ignore[arg-type]


def track(adapter: SimulatedCarrier, *queries: TrackingQuery) -> list[TrackingResult]:
    return asyncio.run(adapter.track(list(queries)))


def at(days: float) -> ManualClock:
    return ManualClock(SHIPPED + timedelta(days=days))


def test_nothing_before_collection_then_checkpoints_appear_and_stay() -> None:
    clock = ManualClock(SHIPPED)
    adapter = SimulatedCarrier(clock=clock)
    q = query("SIM-NORMAL-ZT0001")
    first = track(adapter, q)[0]
    assert first.problem is not None and first.problem.kind is ProblemKind.NOT_FOUND
    seen: tuple = ()
    statuses = []
    for _ in range(24 * 5):
        clock.advance(hours=1)
        result = track(adapter, q)[0]
        if result.tracking is None:
            continue
        cps = result.tracking.checkpoints
        assert cps[len(cps) - len(seen):] == seen, "revealed checkpoints never change or disappear"
        assert all(cp.time <= clock.now() for cp in cps)
        seen = cps
        statuses.append(result.tracking.status)
    assert statuses[0] in (Status.COLLECTED, Status.IN_TRANSIT)
    assert statuses[-1] is Status.DELIVERED
    assert Status.ARRIVED_DESTINATION_CITY in statuses


def test_overall_status_is_latest_checkpoint_and_raw_status_is_scenario() -> None:
    adapter = SimulatedCarrier(clock=at(10))
    for scenario in SCENARIOS:
        if scenario == "never_collected":
            continue
        result = track(adapter, query(f"SIM-{scenario.upper()}-1"))[0]
        assert result.tracking is not None, scenario
        tracking = result.tracking
        assert tracking.status is tracking.checkpoints[0].status
        assert tracking.raw_status == scenario and tracking.provider == "simulated"
        assert [cp.time for cp in tracking.checkpoints] == sorted((cp.time for cp in tracking.checkpoints), reverse=True)
        assert all(cp.raw_code and cp.location for cp in tracking.checkpoints)


def test_never_collected_is_not_found_forever() -> None:
    result = track(SimulatedCarrier(clock=at(30)), query("SIM-NEVER_COLLECTED-9"))[0]
    assert result.problem is not None and result.problem.kind is ProblemKind.NOT_FOUND
    assert result.problem.raw_code == "never_collected"


def test_empty_number_is_invalid_and_does_not_sink_the_batch() -> None:
    results = track(SimulatedCarrier(clock=at(5)), query(" "), query("SIM-NORMAL-2"))
    assert results[0].problem is not None and results[0].problem.kind is ProblemKind.INVALID_NUMBER
    assert results[1].tracking is not None


def test_results_match_queries_in_order() -> None:
    queries = [query(f"ZT{i:04d}") for i in range(50)]
    results = track(SimulatedCarrier(clock=at(3)), *queries)
    assert [r.query for r in results] == queries


def test_same_seed_same_results_other_seed_other_mix() -> None:
    queries = [query(f"YT{i:04d}", "yuantong") for i in range(40)]
    a = track(SimulatedCarrier({"seed": 11}, clock=at(4)), *queries)
    b = track(SimulatedCarrier({"seed": 11}, clock=at(4)), *queries)
    c = track(SimulatedCarrier({"seed": 12}, clock=at(4)), *queries)
    assert a == b
    mix = [r.tracking.raw_status if r.tracking else r.problem.raw_code for r in a]  # type: ignore[union-attr]
    other = [r.tracking.raw_status if r.tracking else r.problem.raw_code for r in c]  # type: ignore[union-attr]
    assert mix != other


def test_settings_override_scenario() -> None:
    adapter = SimulatedCarrier({"scenarios": {"ZT777": "Lost"}}, clock=at(10))
    assert adapter.settings.scenarios == {"ZT777": "lost"}
    tracking = track(adapter, query("ZT777"))[0].tracking
    assert tracking is not None and tracking.raw_status == "lost" and tracking.status is Status.EXCEPTION


def test_remote_destination_draws_remote_slow_instead_of_normal() -> None:
    adapter = SimulatedCarrier(clock=at(1))
    kashgar = {"province": "新疆维吾尔自治区", "city": "喀什地区", "district": "喀什市"}
    for i in range(100):
        near, far = query(f"EM{i}", "ems"), query(f"EM{i}", "ems", **kashgar)
        if adapter.scenario_of(near) == "normal":
            assert adapter.scenario_of(far) == "remote_slow"


def test_epoch_is_used_without_shipped_at() -> None:
    q = query("SIM-NORMAL-E1", shipped_at=None)
    default = SimulatedCarrier(clock=ManualClock(DEFAULT_EPOCH))
    assert default.start_of(q) == DEFAULT_EPOCH
    naive = SimulatedCarrier({"epoch": "2026-12-01T09:00"})
    assert naive.start_of(q) == datetime(2026, 12, 1, 9, tzinfo=SHANGHAI)
    assert track(SimulatedCarrier({"epoch": "2026-12-01T09:00"}, clock=at(5)), q)[0].problem is not None
    # naive shipped_at (as read back from SQLite) is UTC
    assert default.start_of(query("X", shipped_at=datetime(2026, 11, 20, 1))) == datetime(
        2026, 11, 20, 1, tzinfo=timezone.utc
    )


def test_fail_rate_one_always_fails_zero_never() -> None:
    always = SimulatedCarrier({"fail_rate": 1.0}, clock=at(2))
    for _ in range(5):
        with pytest.raises(ProviderTransient) as info:
            track(always, query("SIM-NORMAL-1"))
        assert info.value.provider == "simulated"
    never = SimulatedCarrier(clock=at(2))
    for _ in range(20):
        track(never, query("SIM-NORMAL-1"))


def _failures(seed: int, calls: int = 60) -> list[bool]:
    adapter = SimulatedCarrier({"seed": seed, "fail_rate": 0.3}, clock=at(2))
    out = []
    for _ in range(calls):
        try:
            track(adapter, query("SIM-NORMAL-1"))
            out.append(False)
        except ProviderTransient:
            out.append(True)
    return out


def test_fail_rate_is_deterministic_per_seed_and_call_count() -> None:
    first = _failures(4)
    assert first == _failures(4)
    assert 5 <= sum(first) <= 35
    assert first != _failures(5)


@pytest.mark.parametrize(
    "settings",
    [{"fail_rate": 1.5}, {"fail_rate": -0.1}, {"scenarios": {"ZT1": "teleported"}}, {"speed": 2}],
)
def test_bad_settings_are_rejected(settings: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match=r"^providers\.simulated\.(fail_rate|scenarios|speed)"):
        SimulatedCarrier(settings)


def test_texts_vary_by_courier_alias() -> None:
    adapter = SimulatedCarrier(clock=at(6))
    sf = track(adapter, query("SIM-NORMAL-S1", "顺丰"))[0].tracking
    assert sf is not None and any("顺丰" in cp.text for cp in sf.checkpoints)
