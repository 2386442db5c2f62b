"""The conformance kit itself: good adapters pass, each kind of broken adapter fails."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

import httpx
import pytest

import carriers.testing as kit
from carriers.base import (
    AdapterSettings,
    CarrierAdapter,
    Checkpoint,
    Problem,
    ProblemKind,
    Status,
    Tracking,
    TrackingQuery,
    TrackingResult,
)
from carriers.http import make_client, send
from carriers.simulated import SimulatedCarrier
from watcher.errors import ProviderAuthError, ProviderTransient

T = datetime(2026, 11, 21, 8, 0, tzinfo=timezone.utc)
QUERIES = (TrackingQuery("zhongtong", "ZT1"), TrackingQuery("yunda", "YD2"), TrackingQuery("ems", "EM3"))


def test_public_api_is_pinned() -> None:
    assert sorted(kit.__all__) == sorted([
        "TransportFailure", "TRANSPORT_FAILURES", "check_adapter_class", "check_tracking", "check_results",
        "check_transport_errors", "check_entry_point", "recorded_transport", "ConformanceSuite",
    ])
    for name in kit.__all__:
        assert hasattr(kit, name)


def test_kit_does_not_import_pytest_at_module_level() -> None:
    assert "pytest" not in vars(kit)


# --- an in-memory dummy adapter, good and broken ---------------------------------------


class DummySettings(AdapterSettings):
    token: str = ""


class Dummy(CarrierAdapter):
    name: ClassVar[str] = "dummy"
    batch_size: ClassVar[int] = 10
    Settings = DummySettings

    def tracking(self) -> Tracking:
        cps = (
            Checkpoint(T, "【深圳市】快件已到达【深圳宝安公司】", "深圳市", "city_arrive", Status.ARRIVED_DESTINATION_CITY),
            Checkpoint(T - timedelta(hours=9), "【杭州市】浙江杭州公司 已揽收", "杭州市", "collected", Status.COLLECTED),
        )
        return Tracking(Status.ARRIVED_DESTINATION_CITY, cps, provider=self.name, raw_status="1001")

    def result(self, query: TrackingQuery) -> TrackingResult:
        if query.tracking_number.endswith("3"):
            return TrackingResult(query, problem=Problem(ProblemKind.NOT_FOUND, "no data yet"))
        return TrackingResult(query, tracking=self.tracking())

    async def track(self, queries: Sequence[TrackingQuery]) -> list[TrackingResult]:
        return [self.result(q) for q in queries]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_good_dummy_passes() -> None:
    adapter = kit.check_adapter_class(Dummy, settings={"token": "s3cr3t-value"}, secrets=["s3cr3t-value"])
    results = run(kit.check_results(adapter, QUERIES))
    assert [r.query for r in results] == list(QUERIES)


def _broken(**attrs: Any) -> type[CarrierAdapter]:
    return type("Broken", (Dummy,), attrs)


@pytest.mark.parametrize(
    "attrs",
    [
        {"name": ""},
        {"name": "two words"},
        {"batch_size": 0},
        {"max_concurrency": 0},
        {"min_interval": timedelta(seconds=-1)},
        {"min_interval": 30},
        {"rate_limit": 0},
        {"couriers": {"zhongtong"}},
        {"Settings": dict},
    ],
)
def test_bad_class_attributes_fail(attrs: dict[str, Any]) -> None:
    with pytest.raises(AssertionError):
        kit.check_adapter_class(_broken(**attrs))


def test_sync_track_fails() -> None:
    def track(self: Any, queries: Any) -> list[TrackingResult]:
        return []

    with pytest.raises(AssertionError, match="async def"):
        kit.check_adapter_class(_broken(track=track))


def test_settings_allowing_unknown_keys_fail() -> None:
    from pydantic import ConfigDict

    loose = type("Loose", (AdapterSettings,), {"model_config": ConfigDict(extra="allow", frozen=True)})
    with pytest.raises(AssertionError, match="unknown keys"):
        kit.check_adapter_class(_broken(Settings=loose))


def test_secret_in_repr_fails() -> None:
    class Leaky(AdapterSettings):
        credential: str = ""  # not a name redaction knows

    with pytest.raises(AssertionError, match="secret"):
        kit.check_adapter_class(_broken(Settings=Leaky), settings={"credential": "hunter2-xyz"}, secrets=["hunter2-xyz"])


def _replace_tracking(**changes: Any) -> type[CarrierAdapter]:
    def tracking(self: Dummy) -> Tracking:
        return dataclasses.replace(Dummy.tracking(self), **changes)

    return _broken(tracking=tracking)


def _oldest_first(self: Dummy) -> Tracking:
    good = Dummy.tracking(self)
    return dataclasses.replace(good, checkpoints=good.checkpoints[::-1])


def _drop_last(self: Dummy, queries: Sequence[TrackingQuery]) -> Any:
    async def inner() -> list[TrackingResult]:
        return [self.result(q) for q in queries][:-1]

    return inner()


async def _reversed(self: Dummy, queries: Sequence[TrackingQuery]) -> list[TrackingResult]:
    return [self.result(q) for q in reversed(queries)]


async def _other_query(self: Dummy, queries: Sequence[TrackingQuery]) -> list[TrackingResult]:
    return [dataclasses.replace(self.result(q), query=TrackingQuery(q.courier, q.tracking_number + "X")) for q in queries]


async def _str_problem(self: Dummy, queries: Sequence[TrackingQuery]) -> list[TrackingResult]:
    return [TrackingResult(q, problem=Problem("not_found", "x")) for q in queries]  # type: ignore[arg-type]


async def _tuple(self: Dummy, queries: Sequence[TrackingQuery]) -> Any:
    return tuple(self.result(q) for q in queries)


@pytest.mark.parametrize(
    ("adapter_class", "message"),
    [
        (_replace_tracking(status="delivered"), "Status"),
        (_replace_tracking(status=None), "Status"),
        (_replace_tracking(provider=""), "provider"),
        (_replace_tracking(checkpoints=[]), "tuple"),
        (_replace_tracking(checkpoints=(Checkpoint(T, "  "),)), "text"),
        (_broken(tracking=_oldest_first), "newest first"),
        (_broken(track=_drop_last), "results for"),
        (_broken(track=_reversed), "same order"),
        (_broken(track=_other_query), "same order"),
        (_broken(track=_str_problem), "ProblemKind"),
        (_broken(track=_tuple), "list"),
    ],
)
def test_broken_results_fail(adapter_class: type[CarrierAdapter], message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        run(kit.check_results(adapter_class(), QUERIES))


def test_more_queries_than_batch_size_is_kit_misuse() -> None:
    with pytest.raises(AssertionError, match="batch_size"):
        run(kit.check_results(Dummy(), [TrackingQuery("ems", f"E{i}") for i in range(11)]))


# --- HTTP dummies for check_transport_errors -----------------------------------------


class HttpSettings(AdapterSettings):
    key: str = "k"
    base_url: str = "https://tracking.invalid"


class GoodHttp(CarrierAdapter):
    """A provider on carriers.http.send that also converts malformed bodies."""

    name: ClassVar[str] = "goodhttp"
    batch_size: ClassVar[int] = 20
    Settings = HttpSettings

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = make_client(self.settings.base_url, transport=self.transport)  # type: ignore[attr-defined]

    async def fetch(self, queries: Sequence[TrackingQuery]) -> Any:
        request = self.client.build_request("POST", "/track", json=[q.tracking_number for q in queries])
        response = await send(self.client, request, provider=self.name)
        try:
            return response.json()
        except ValueError as exc:
            raise ProviderTransient(f"{self.name}: body is not JSON", provider=self.name) from exc

    async def track(self, queries: Sequence[TrackingQuery]) -> list[TrackingResult]:
        data = await self.fetch(queries)
        out = []
        for q in queries:
            scans = data.get(q.tracking_number)
            if not scans:
                out.append(TrackingResult(q, problem=Problem(ProblemKind.NOT_FOUND, "no data")))
                continue
            cps = tuple(Checkpoint(datetime.fromisoformat(s["time"]), s["text"], s.get("city", "")) for s in scans)
            out.append(TrackingResult(q, tracking=Tracking(Status.IN_TRANSIT, cps, provider=self.name)))
        return out

    async def aclose(self) -> None:
        await self.client.aclose()


class LeakyHttp(GoodHttp):
    """Calls httpx directly: timeouts escape as httpx exceptions."""

    async def fetch(self, queries: Sequence[TrackingQuery]) -> Any:
        response = await self.client.post("/track", json=[])
        return response.json()


class NoRetryAfter(GoodHttp):
    async def fetch(self, queries: Sequence[TrackingQuery]) -> Any:
        try:
            return await super().fetch(queries)
        except ProviderTransient as exc:
            raise ProviderTransient(str(exc), provider=self.name) from exc


class Swallows(GoodHttp):
    """Turns every failure into per-number problems: the poller never learns of the outage."""

    async def fetch(self, queries: Sequence[TrackingQuery]) -> Any:
        try:
            return await super().fetch(queries)
        except ProviderTransient:
            return {}


class AuthOnServerError(GoodHttp):
    async def fetch(self, queries: Sequence[TrackingQuery]) -> Any:
        try:
            return await super().fetch(queries)
        except ProviderTransient as exc:
            if exc.code == "500":
                raise ProviderAuthError("nope", provider=self.name) from exc
            raise


class SilentOnHtml(GoodHttp):
    async def fetch(self, queries: Sequence[TrackingQuery]) -> Any:
        request = self.client.build_request("POST", "/track")
        response = await send(self.client, request, provider=self.name)
        try:
            return response.json()
        except ValueError:
            return {}


def test_good_http_adapter_passes_transport_checks() -> None:
    run(kit.check_transport_errors(lambda transport: GoodHttp(transport=transport), QUERIES))


def test_factory_may_be_async() -> None:
    async def make(transport: httpx.AsyncBaseTransport) -> CarrierAdapter:
        return GoodHttp(transport=transport)

    run(kit.check_transport_errors(make, QUERIES))


@pytest.mark.parametrize(
    ("adapter_class", "message"),
    [
        (LeakyHttp, "bare ConnectTimeout escaped"),
        (NoRetryAfter, "retry_after should be 7"),
        (Swallows, "returned normally"),
        (AuthOnServerError, "got ProviderAuthError"),
        (SilentOnHtml, "not JSON: track\\(\\) returned normally"),
    ],
)
def test_bad_http_adapters_fail_transport_checks(adapter_class: type[GoodHttp], message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        run(kit.check_transport_errors(lambda transport: adapter_class(transport=transport), QUERIES))


def test_transport_failures_table_covers_the_contract() -> None:
    names = {f.name for f in kit.TRANSPORT_FAILURES}
    assert {"connect timeout", "read timeout", "HTTP 500", "HTTP 429"} <= names
    assert [f.retry_after for f in kit.TRANSPORT_FAILURES if f.name == "HTTP 429"] == [7]


def test_recorded_transport_replays_json(tmp_path: Any) -> None:
    path = tmp_path / "ok.json"
    path.write_text('{"ZT1": [{"time": "2026-11-21T08:00:00+08:00", "text": "快件已揽收", "city": "杭州市"}]}',
                    encoding="utf-8")

    async def go() -> list[TrackingResult]:
        async with GoodHttp(transport=kit.recorded_transport(path)) as adapter:
            return await kit.check_results(adapter, QUERIES)

    results = run(go())
    assert results[0].tracking is not None and results[1].problem is not None


def test_entry_point_check() -> None:
    kit.check_entry_point(SimulatedCarrier)
    with pytest.raises(AssertionError):
        kit.check_entry_point(Dummy)


# --- the suite base class, used the way plug-in authors use it -----------------------


class TestGoodHttpSuite(kit.ConformanceSuite):
    adapter_class = GoodHttp
    settings = {"key": "very-secret-key"}
    secrets = ("very-secret-key",)
    queries = QUERIES
    entry_point = False

    def replay_transport(self) -> httpx.AsyncBaseTransport:
        body = {"ZT1": [{"time": "2026-11-21T08:00:00+08:00", "text": "【杭州市】浙江杭州公司 已揽收"}]}
        return httpx.MockTransport(lambda request: httpx.Response(200, json=body))


def test_suite_catches_a_leaky_adapter() -> None:
    class Suite(kit.ConformanceSuite):
        adapter_class = LeakyHttp
        queries = QUERIES

    with pytest.raises(AssertionError, match="escaped"):
        Suite().test_transport_errors()
