"""The shared conformance kit (:mod:`carriers.testing`) run against the Kuaidi100 adapter."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from carriers.base import TrackingQuery
from carriers.kuaidi100 import Kuaidi100Carrier
from carriers.testing import ConformanceSuite, check_results, recorded_transport

FIXTURES = Path(__file__).parent / "fixtures"
SETTINGS = {"customer": "CONFORMANCE01", "key": "conformance-s3cret-key"}

#: recorded reply -> the query it answers
RECORDED = {
    "zto_in_transit": TrackingQuery("zhongtong", "75301234567890", phone="+8613912345678"),
    "sf_delivered": TrackingQuery("shunfeng", "SF1400012345678", phone="+8613900005678"),
    "yto_arrived_city": TrackingQuery("yuantong", "YT7412345678901"),
    "yunda_locker": TrackingQuery("yunda", "4312345678901"),
    "sto_out_of_area": TrackingQuery("shentong", "773123456789012"),
    "jt_refused": TrackingQuery("jtexpress", "JT0001234567890"),
    "ems_returning": TrackingQuery("ems", "9812345678901"),
    "returned_4": TrackingQuery("yunda", "YD4300000000004"),
    "stale_202": TrackingQuery("yuantong", "YT7400000000202"),
    "unknown_state": TrackingQuery("zhongtong", "75309999999999"),
    "error_500_not_found": TrackingQuery("zhongtong", "75300000000000"),
    "error_408_phone": TrackingQuery("shunfeng", "SF1400000000408"),
    "error_400_unsupported": TrackingQuery("kuayue", "KY4000000000400"),
}


class TestKuaidi100Conformance(ConformanceSuite):
    adapter_class = Kuaidi100Carrier
    settings = SETTINGS
    secrets = (SETTINGS["key"],)
    queries = (RECORDED["zto_in_transit"],)

    def replay_transport(self) -> httpx.AsyncBaseTransport:
        return recorded_transport(FIXTURES / "zto_in_transit.json")


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_every_recorded_reply_conforms(name: str) -> None:
    async def run() -> None:
        async with Kuaidi100Carrier(SETTINGS, transport=recorded_transport(FIXTURES / f"{name}.json")) as adapter:
            await check_results(adapter, [RECORDED[name]])

    asyncio.run(run())
