"""config/demo-parcels.csv: valid for intake, every scenario shown, plays on the simulator."""

from __future__ import annotations

import asyncio
import csv
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from carriers.base import TrackingQuery
from carriers.couriers import resolve_courier
from carriers.simulated import SimulatedCarrier
from carriers.simulated.adapter import scenario_from_number
from carriers.simulated.scenarios import SCENARIOS
from watcher.clock import ManualClock
from watcher.intake.rows import ParcelInput, validate_row

DEMO = Path(__file__).resolve().parents[3] / "config" / "demo-parcels.csv"
SHANGHAI = ZoneInfo("Asia/Shanghai")
HEADER = "carrier,tracking_number,order_id,buyer_name,buyer_phone,province,city,district,address,shipped_at,language"


def rows() -> list[dict[str, str]]:
    with DEMO.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_header_and_size() -> None:
    assert DEMO.read_text(encoding="utf-8").splitlines()[0] == HEADER
    assert 35 <= len(rows()) <= 50


def test_every_scenario_appears_and_most_are_normal() -> None:
    counts = Counter(scenario_from_number(r["tracking_number"]) for r in rows())
    assert None not in counts
    assert set(counts) == set(SCENARIOS)
    assert counts["normal"] == max(counts.values()) and counts["normal"] >= len(rows()) / 3


def test_rows_pass_intake_validation() -> None:
    now = datetime(2026, 11, 20, 12, tzinfo=SHANGHAI)
    parsed = [validate_row(r, line=i, shop_tz=SHANGHAI, now=now) for i, r in enumerate(rows(), start=2)]
    assert all(isinstance(p, ParcelInput) for p in parsed), [p for p in parsed if not isinstance(p, ParcelInput)]
    assert len({(p.courier, p.tracking_number) for p in parsed}) == len(parsed)  # type: ignore[union-attr]


def test_variety() -> None:
    data = rows()
    couriers = {resolve_courier(r["carrier"]) for r in data}
    assert {"zhongtong", "yuantong", "shentong", "yunda", "shunfeng", "jtexpress", "ems"} <= couriers
    assert sum(r["language"] == "en" for r in data) >= 2
    assert any("新疆" in r["province"] for r in data) and any("西藏" in r["province"] for r in data)
    days = {r["shipped_at"][:10] for r in data}
    assert len(days) == 2
    assert len({r["province"] for r in data}) >= 20


def test_demo_week_plays_on_the_simulator() -> None:
    clock = ManualClock(datetime(2026, 11, 20, 12, tzinfo=SHANGHAI))
    adapter = SimulatedCarrier({"seed": 7}, clock=clock)
    queries = [
        TrackingQuery(
            resolve_courier(r["carrier"]), r["tracking_number"],
            shipped_at=datetime.strptime(r["shipped_at"], "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI),
            province=r["province"], city=r["city"], district=r["district"],
        )
        for r in rows()
    ]
    clock.advance(timedelta(days=8))
    results = asyncio.run(adapter.track(queries))
    final = Counter(r.tracking.status.value if r.tracking else r.problem.kind.value for r in results)  # type: ignore[union-attr]
    assert final["delivered"] >= len(queries) / 2
    assert {"exception", "returned", "available_for_pickup", "not_found", "info_received"} <= set(final)
