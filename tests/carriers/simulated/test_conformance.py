"""The simulated carrier passes the conformance kit plug-in authors use."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from carriers.base import TrackingQuery
from carriers.simulated import SimulatedCarrier
from carriers.simulated.scenarios import SCENARIOS
from carriers.testing import ConformanceSuite, check_results
from watcher.clock import Clock, ManualClock

SHIPPED = datetime(2026, 11, 20, 18, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


class TestSimulatedConformance(ConformanceSuite):
    adapter_class = SimulatedCarrier
    settings = {"seed": 7}
    http = False  # no network: the transport-error checks do not apply
    queries = tuple(
        TrackingQuery("zhongtong", f"SIM-{name.upper()}-ZT{i:04d}", shipped_at=SHIPPED, city="杭州市")
        for i, name in enumerate(SCENARIOS)
    ) + (TrackingQuery("yunda", "4312345678901", province="新疆维吾尔自治区", city="乌鲁木齐市"),)

    def make_clock(self) -> Clock | None:
        return ManualClock(SHIPPED + timedelta(days=3))


def test_results_conform_at_every_moment_of_the_week() -> None:
    clock = ManualClock(SHIPPED)
    adapter = SimulatedCarrier({"seed": 7}, clock=clock)
    queries = [
        TrackingQuery(courier, f"SIM-{name}-{i}", shipped_at=SHIPPED)
        for i, (courier, name) in enumerate(
            (c, s) for c in ("shunfeng", "ems", "jtexpress", "debangwuliu") for s in SCENARIOS
        )
    ][: SimulatedCarrier.batch_size]
    for _ in range(7 * 4):
        asyncio.run(check_results(adapter, queries))
        clock.advance(hours=6)
