"""The adapter end to end against the local fake server (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import json
import selectors
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from carriers.base import ProblemKind, Status, TrackingQuery
from carriers.kuaidi100 import Kuaidi100Carrier
from carriers.kuaidi100.parse import build_form
from tests.fakes.kuaidi100 import Kuaidi100Fake, serve_in_thread, trace_reply
from watcher.errors import ProviderAuthError, ProviderTransient

REPO = Path(__file__).resolve().parents[3]
FIXTURES = Path(__file__).parent / "fixtures"
ZTO = TrackingQuery(courier="zhongtong", tracking_number="75301234567890", phone="13912345678")
UNKNOWN = TrackingQuery(courier="yunda", tracking_number="4300000000000")


def recorded(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def track(base_url: str, fake: Kuaidi100Fake, *queries: TrackingQuery, key: str | None = None) -> list[Any]:
    async def go() -> list[Any]:
        settings = {"customer": fake.customer, "key": key or fake.key, "base_url": base_url, "timeout_seconds": 5}
        async with Kuaidi100Carrier(settings) as carrier:
            return [result for query in queries for result in await carrier.track([query])]

    return asyncio.run(go())


@pytest.fixture
def fake() -> Kuaidi100Fake:
    return Kuaidi100Fake({"75301234567890": recorded("zto_in_transit")})


def test_adapter_against_the_fake(fake: Kuaidi100Fake) -> None:
    with serve_in_thread(fake) as base_url:
        found, missing = track(base_url, fake, ZTO, UNKNOWN)
    assert found.tracking.status is Status.IN_TRANSIT
    assert [c.raw_code for c in found.tracking.checkpoints] == ["1002", "0", "103"]
    assert missing.problem.kind is ProblemKind.NOT_FOUND
    assert fake.requests == 2
    assert fake.by_number == {"75301234567890": 1, "4300000000000": 1}


def test_wrong_key_is_rejected_like_the_real_service(fake: Kuaidi100Fake) -> None:
    with serve_in_thread(fake) as base_url, pytest.raises(ProviderAuthError):
        track(base_url, fake, ZTO, key="not-the-key")
    assert fake.by_number == {}


def test_failure_injection(fake: Kuaidi100Fake) -> None:
    fake.fail_next(1, http_status=429, retry_after=30)
    fake.fail_next(1)
    fake.return_code_next(1, code="502")
    with serve_in_thread(fake) as base_url:
        errors = []
        for _ in range(3):
            with pytest.raises(ProviderTransient) as caught:
                track(base_url, fake, ZTO)
            errors.append((caught.value.code, caught.value.retry_after))
        [ok] = track(base_url, fake, ZTO)
    assert errors == [("429", 30.0), ("503", None), ("502", None)]
    assert ok.ok
    assert fake.requests == 4
    assert fake.by_number["75301234567890"] == 2  # HTTP failures happen before the form is read


def test_fake_handles_forms_without_http() -> None:
    fake = Kuaidi100Fake({"YT7400000000001": trace_reply("YT7400000000001", "yuantong", "1001", [])})
    form = build_form(TrackingQuery(courier="yuantong", tracking_number="YT7400000000001"), customer=fake.customer, key=fake.key)
    status, _, body = fake.handle(form)
    assert status == 200 and json.loads(body)["state"] == "1001"
    status, _, body = fake.handle({**form, "sign": "0" * 32})
    assert json.loads(body) == {"result": False, "returnCode": "503", "message": "验证签名失败"}
    assert json.loads(fake.handle({"customer": fake.customer})[2])["returnCode"] == "400"


def test_fake_as_a_process(tmp_path: Path) -> None:
    data = tmp_path / "replies.json"
    data.write_text(json.dumps({"75301234567890": recorded("zto_in_transit")}, ensure_ascii=False), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.kuaidi100", "--data", str(data), "--customer", "C1", "--key", "K1"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(proc.stdout, selectors.EVENT_READ)
            assert selector.select(timeout=20), "the fake did not print its port"
        line = proc.stdout.readline()
        assert line.startswith("PORT ")
        port = int(line.split()[1])
        form = build_form(ZTO, customer="C1", key="K1")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            replies = [client.post("/poll/query.do", data=form).json() for _ in range(2)]  # one keep-alive connection
            assert client.post("/elsewhere", data=form).status_code == 404
        assert [reply["state"] for reply in replies] == ["1002", "1002"]
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert out == ""  # exactly one line was printed


def test_a_provider_that_never_answers_times_out_as_transient() -> None:
    """Real sockets: the listener accepts and stays silent; the request's own read timeout ends it."""
    import socket

    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]

        async def go() -> None:
            settings = {"customer": "c", "key": "k", "base_url": f"http://127.0.0.1:{port}", "timeout_seconds": 0.3}
            async with Kuaidi100Carrier(settings) as carrier:
                await carrier.track([ZTO])

        with pytest.raises(ProviderTransient, match=r"kuaidi100: timed out \(ReadTimeout\)"):
            asyncio.run(go())
