"""The adapter over ``httpx.MockTransport``: the exact request, and transport failures."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from structlog.testing import capture_logs

from carriers.base import ProblemKind, Status, TrackingQuery
from carriers.kuaidi100 import Kuaidi100Carrier
from watcher.errors import ConfigError, ProviderAuthError, ProviderTransient


FIXTURES = Path(__file__).parent / "fixtures"
CUSTOMER = "CUSTOMER0001"
KEY = "sEcReT-k3y"
SETTINGS = {"customer": CUSTOMER, "key": KEY, "base_url": "https://k100.test/"}


def load_payload(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def adapter(handler: Callable[[httpx.Request], httpx.Response], **settings: Any) -> Kuaidi100Carrier:
    return Kuaidi100Carrier({**SETTINGS, **settings}, transport=httpx.MockTransport(handler))


def track(carrier: Kuaidi100Carrier, *queries: TrackingQuery) -> list[Any]:
    async def go() -> list[Any]:
        async with carrier:
            return await carrier.track(list(queries))

    return run(go())


def form_of(request: httpx.Request) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(request.content.decode("utf-8")).items()}


ZTO = TrackingQuery(courier="zhongtong", tracking_number="75301234567890", phone="+8613912345678")


def test_declared_limits() -> None:
    assert Kuaidi100Carrier.name == "kuaidi100"
    assert Kuaidi100Carrier.batch_size == 1
    assert Kuaidi100Carrier.min_interval == timedelta(minutes=30)
    assert Kuaidi100Carrier.rate_limit == 20.0 and Kuaidi100Carrier.max_concurrency == 8
    assert {"zhongtong", "shunfeng", "yuantong", "jtexpress"} <= Kuaidi100Carrier.couriers


def test_exact_request() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=load_payload("zto_in_transit"))

    [result] = track(adapter(handler), ZTO)
    assert result.tracking.status is Status.IN_TRANSIT
    [request] = seen
    assert request.method == "POST"
    assert str(request.url) == "https://k100.test/poll/query.do"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["user-agent"] == "parcelwatch" and request.headers["host"] == "k100.test"
    assert int(request.headers["content-length"]) == len(request.content)
    # every request carries its timeouts (the transport enforces them)
    assert request.extensions["timeout"] == {"connect": 5.0, "read": 10.0, "write": 10.0, "pool": 10.0}
    form = form_of(request)
    param = '{"com":"zhongtong","num":"75301234567890","phone":"5678","resultv2":"4","show":"0","order":"desc"}'
    assert form == {
        "customer": CUSTOMER,
        "param": param,
        "sign": hashlib.md5((param + KEY + CUSTOMER).encode()).hexdigest().upper(),
    }
    assert json.loads(form["param"])["phone"] == "5678"


def test_base_url_with_a_path_prefix() -> None:
    urls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        urls.append(str(request.url))
        return httpx.Response(200, json=load_payload("error_500_not_found"))

    track(adapter(handler, base_url="http://127.0.0.1:9/proxy/k100"), ZTO)
    assert urls == ["http://127.0.0.1:9/proxy/k100/poll/query.do"]


def test_needs_phone_courier_without_phone_is_still_queried() -> None:
    forms: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        forms.append(form_of(request))
        return httpx.Response(200, json=load_payload("sf_delivered"))

    sf = TrackingQuery(courier="shunfeng", tracking_number="SF1400012345678")
    [result] = track(adapter(handler), sf)
    assert result.tracking.status is Status.DELIVERED
    assert "phone" not in json.loads(forms[0]["param"])


def test_one_request_per_number_results_in_order() -> None:
    replies = {"75301234567890": "zto_in_transit", "4312345678901": "yunda_locker", "YT7400000000000": "error_500_not_found"}

    def handler(request: httpx.Request) -> httpx.Response:
        number = json.loads(form_of(request)["param"])["num"]
        return httpx.Response(200, json=load_payload(replies[number]))

    queries = [
        ZTO,
        TrackingQuery(courier="yunda", tracking_number="4312345678901"),
        TrackingQuery(courier="yuantong", tracking_number="YT7400000000000"),
    ]
    results = track(adapter(handler), *queries)
    assert [r.query for r in results] == queries
    assert [r.tracking.status if r.ok else r.problem.kind for r in results] == [
        Status.IN_TRANSIT,
        Status.AVAILABLE_FOR_PICKUP,
        ProblemKind.NOT_FOUND,
    ]


def test_no_request_for_unsupported_courier_or_impossible_number() -> None:
    def handler(request: httpx.Request) -> httpx.Response:  # pragma: no cover - must not be called
        raise AssertionError("no request expected")

    results = track(
        adapter(handler),
        TrackingQuery(courier="no-such-courier", tracking_number="12345678"),
        TrackingQuery(courier="zhongtong", tracking_number="123"),
        TrackingQuery(courier="zhongtong", tracking_number="1" * 33),
    )
    assert [r.problem.kind for r in results] == [
        ProblemKind.UNSUPPORTED_COURIER,
        ProblemKind.INVALID_NUMBER,
        ProblemKind.INVALID_NUMBER,
    ]


@pytest.mark.parametrize(
    "raise_or_respond",
    [
        httpx.ConnectTimeout("timed out"),
        httpx.ReadTimeout("timed out"),
        httpx.ConnectError("refused"),
        httpx.Response(500, text="oops"),
        httpx.Response(502, text="bad gateway"),
    ],
)
def test_transport_failures_are_transient(raise_or_respond: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(raise_or_respond, Exception):
            raise raise_or_respond
        return raise_or_respond

    with pytest.raises(ProviderTransient) as caught:
        track(adapter(handler), ZTO)
    assert caught.value.provider == "kuaidi100"
    assert caught.value.retry_after is None


def test_429_carries_retry_after() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "17"})

    with pytest.raises(ProviderTransient) as caught:
        track(adapter(handler), ZTO)
    assert (caught.value.code, caught.value.retry_after) == ("429", 17.0)


def test_malformed_200_body_is_transient() -> None:
    with pytest.raises(ProviderTransient, match="malformed body"):
        track(adapter(lambda request: httpx.Response(200, text="<html>maintenance</html>")), ZTO)


def test_bad_signature_reply_is_auth_error_without_secrets() -> None:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(form_of(request)["sign"])
        return httpx.Response(200, json=load_payload("error_503_bad_sign"))

    with capture_logs() as logs, pytest.raises(ProviderAuthError) as caught:
        track(adapter(handler), ZTO)
    text = f"{caught.value} {caught.value!r} {logs}"
    assert KEY not in text and sent[0] not in text


@pytest.mark.parametrize(
    ("settings", "key_named"),
    [
        ({"customer": "", "key": KEY}, "providers.kuaidi100.customer"),
        ({"customer": CUSTOMER, "key": ""}, "providers.kuaidi100.key"),
        ({"customer": "  ", "key": "  "}, "providers.kuaidi100.customer"),
    ],
)
def test_missing_credentials_are_config_errors(settings: dict[str, str], key_named: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:  # pragma: no cover - must not be called
        raise AssertionError("no request expected")

    carrier = Kuaidi100Carrier(settings, transport=httpx.MockTransport(handler))
    with pytest.raises(ConfigError, match=key_named):
        track(carrier, ZTO)


def test_constructing_without_credentials_is_fine_and_empty_batch_needs_none() -> None:
    carrier = Kuaidi100Carrier()
    assert track(carrier) == []


def test_bad_settings_name_the_key() -> None:
    with pytest.raises(ConfigError, match=r"providers\.kuaidi100\.tiemout"):
        Kuaidi100Carrier({"tiemout": 3})
    with pytest.raises(ConfigError, match=r"providers\.kuaidi100\.timeout_seconds"):
        Kuaidi100Carrier({"timeout_seconds": 0})


def test_secret_never_shown() -> None:
    carrier = Kuaidi100Carrier(SETTINGS)
    for text in (repr(carrier), str(carrier.settings), repr(carrier.settings), f"{carrier.settings.key}"):
        assert KEY not in text
    assert carrier.settings.key.get_secret_value() == KEY


def test_public_names_are_pinned() -> None:
    import carriers.kuaidi100

    assert carriers.kuaidi100.__all__ == ["Kuaidi100Carrier", "Kuaidi100Settings"]


def test_registered_under_the_entry_point() -> None:
    from carriers.registry import discover

    assert discover().adapters["kuaidi100"] is Kuaidi100Carrier
