"""ChatWebhook through httpx.MockTransport: the exact request, every reply mapping, config errors, secrecy."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import timedelta
from importlib.metadata import entry_points
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from notifiers.base import Message, Recipient, SendResult, SendState
from notifiers.chat_webhook import ChatRetryable, ChatWebhook
from notifiers.chat_webhook.signing import sign, verify
from tests.support import T0
from watcher.clock import ManualClock
from watcher.errors import ChannelPermanent, ChannelRetryable, ConfigError

URL = "https://bridge.shop.example/parcelwatch/notices"
SECRET = "chat-s3cret-never-printed"
BUYER = Recipient(chat_id="tb-buyer-0042", phone="+8613912345678", name="张三", language="zh-CN")
NOTICE = Message("【小鲸鱼】您的包裹已到达杭州", "arrived_city", "notice-7:arrived_city")

Handler = Callable[[httpx.Request], httpx.Response]


def channel(handler: Handler, **overrides: Any) -> ChatWebhook:
    settings = {"url": URL, "secret": SECRET}
    settings.update(overrides)
    return ChatWebhook({k: v for k, v in settings.items() if v is not None},
                       transport=httpx.MockTransport(handler), clock=ManualClock(T0))


def send(ch: ChatWebhook, recipient: Recipient = BUYER, message: Message = NOTICE) -> SendResult:
    async def run() -> SendResult:
        try:
            return await ch.send(recipient, message)
        finally:
            await ch.aclose()

    return asyncio.run(run())


def reply(status: int = 200, body: Any = None, headers: dict[str, str] | None = None) -> Handler:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return lambda request: httpx.Response(status, content=content, headers=headers)


DELIVERED = {"status": "delivered", "message_id": "qn-123"}


def test_exact_request() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=DELIVERED)

    send(channel(handler))
    (request,) = seen
    ts = str(int(T0.timestamp()))
    assert request.method == "POST" and str(request.url) == URL
    body = request.content
    assert json.loads(body) == {
        "chat_id": "tb-buyer-0042", "text": NOTICE.body, "kind": "arrived_city",
        "idempotency_key": "notice-7:arrived_city", "language": "zh-CN",
    }
    assert "您的包裹".encode() in body  # UTF-8 on the wire, not \u escapes
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert request.headers["X-Parcelwatch-Timestamp"] == ts
    assert request.headers["Idempotency-Key"] == "notice-7:arrived_city"
    assert request.headers["X-Parcelwatch-Signature"] == sign(SECRET.encode(), int(ts), body)
    assert verify(SECRET.encode(), ts, body, request.headers["X-Parcelwatch-Signature"], now=T0)
    assert SECRET not in str(request.headers)


def test_delivered() -> None:
    result = send(channel(reply(200, DELIVERED)))
    assert result == SendResult(SendState.DELIVERED, provider_id="qn-123")
    assert send(channel(reply(202, {"status": "delivered"}))).provider_id is None


def test_offline() -> None:
    assert send(channel(reply(200, {"status": "offline"}))).state is SendState.OFFLINE


def test_failed_permanent() -> None:
    body = {"status": "failed", "error": "buyer 13912345678 blocked the shop", "permanent": True}
    with pytest.raises(ChannelPermanent) as info:
        send(channel(reply(200, body)))
    assert info.value.code == "failed" and info.value.channel == "chat"
    assert "blocked the shop" in str(info.value) and "13912345678" not in str(info.value)


@pytest.mark.parametrize("permanent", [False, None, "true", 1])
def test_failed_not_permanent_is_retryable(permanent: Any) -> None:
    body = {"status": "failed", "error": "session expired"}
    if permanent is not None:
        body["permanent"] = permanent
    with pytest.raises(ChatRetryable) as info:
        send(channel(reply(200, body)))
    assert info.value.code == "failed" and not info.value.ambiguous and info.value.idempotent


@pytest.mark.parametrize("body", [b"not json", b"[]", json.dumps({"status": "queued"}).encode(), b"{}"])
def test_unexpected_2xx_reply_is_retryable(body: bytes) -> None:
    with pytest.raises(ChatRetryable) as info:
        send(channel(reply(200, body)))
    assert info.value.code == "malformed" and info.value.ambiguous


def test_429_honours_retry_after_seconds() -> None:
    with pytest.raises(ChatRetryable) as info:
        send(channel(reply(429, b"slow down", {"Retry-After": "42"})))
    assert info.value.retry_after == 42.0 and info.value.code == "429"
    assert isinstance(info.value, ChannelRetryable)


def test_429_retry_after_http_date_uses_the_injected_clock() -> None:
    later = (T0 + timedelta(seconds=90)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    with pytest.raises(ChatRetryable) as info:
        send(channel(reply(429, b"", {"Retry-After": later})))
    assert info.value.retry_after == 90.0


def test_429_without_retry_after() -> None:
    with pytest.raises(ChatRetryable) as info:
        send(channel(reply(429, b"")))
    assert info.value.retry_after is None


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_server_errors_are_retryable(status: int) -> None:
    with pytest.raises(ChatRetryable) as info:
        send(channel(reply(status, b"oops", {"Retry-After": "5"})))
    assert info.value.code == str(status) and info.value.retry_after == 5.0


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failures_are_config_errors(status: int) -> None:
    with pytest.raises(ConfigError, match=r"^chat\.secret: ") as info:
        send(channel(reply(status, {"error": "bad signature"})))
    assert SECRET not in str(info.value)


@pytest.mark.parametrize("status", [400, 404, 410, 413, 422, 301])
def test_other_client_errors_are_permanent(status: int) -> None:
    with pytest.raises(ChannelPermanent) as info:
        send(channel(reply(status, {"error": "nope"})))
    assert info.value.code == str(status)


def raising(exc: Exception) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


@pytest.mark.parametrize(
    ("exc", "code", "ambiguous"),
    [
        (httpx.ConnectError("refused"), "connect", False),
        (httpx.ConnectTimeout("slow"), "connect", False),
        (httpx.PoolTimeout("pool"), "connect", False),
        (httpx.ReadTimeout("slow"), "timeout", True),
        (httpx.WriteTimeout("slow"), "timeout", True),
        (httpx.RemoteProtocolError("server disconnected"), "transport", True),
        (httpx.ReadError("reset"), "transport", True),
    ],
)
def test_transport_failures_are_retryable(exc: Exception, code: str, ambiguous: bool) -> None:
    with pytest.raises(ChatRetryable) as info:
        send(channel(raising(exc)))
    assert info.value.code == code and info.value.ambiguous is ambiguous
    assert info.value.idempotent  # the Idempotency-Key makes a retry safe, ambiguous or not


@pytest.mark.parametrize(
    ("settings", "key"),
    [({"url": None}, "chat.url"), ({"url": ""}, "chat.url"), ({"secret": None}, "chat.secret"), ({"secret": ""}, "chat.secret")],
)
def test_missing_settings_are_config_errors_at_send(settings: dict[str, Any], key: str) -> None:
    calls: list[httpx.Request] = []
    ch = channel(lambda r: calls.append(r) or httpx.Response(200, json=DELIVERED), **settings)
    with pytest.raises(ConfigError, match=rf"^{key}: required"):
        send(ch)
    assert not calls


@pytest.mark.parametrize(
    ("settings", "pattern"),
    [
        ({"url": "ftp://bridge"}, r"^chat\.url: "),
        ({"timeout_seconds": 0}, r"^chat\.timeout_seconds: "),
        ({"token": "x"}, r"^chat\.token: unknown key$"),
    ],
)
def test_bad_settings_name_the_key(settings: dict[str, Any], pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern):
        ChatWebhook({"url": URL, "secret": SECRET, **settings})


def test_defaults_and_class_attributes() -> None:
    ch = ChatWebhook()
    assert (ch.name, ch.kind, ch.settings.timeout_seconds) == ("chat", "chat", 10.0)
    assert ch.can_reach(Recipient(chat_id="x")) and not ch.can_reach(Recipient(phone="+8613912345678"))


def test_recipient_without_chat_id_is_permanent() -> None:
    with pytest.raises(ChannelPermanent) as info:
        send(channel(reply(200, DELIVERED)), Recipient(phone="+8613912345678"))
    assert info.value.code == "no_chat_id"


def test_secret_never_in_repr_or_logs() -> None:
    ch = channel(reply(200, DELIVERED))
    assert SECRET not in repr(ch) and SECRET not in repr(ch.settings) and SECRET not in str(ch.settings)
    with capture_logs() as logs:
        send(ch)
        for handler in (reply(200, {"status": "offline"}), reply(401, b""), reply(503, b""), raising(httpx.ReadTimeout("t"))):
            try:
                send(channel(handler))
            except Exception as exc:  # noqa: BLE001 - every failure path is logged
                assert SECRET not in str(exc) and SECRET not in repr(exc)
    text = repr(logs)
    assert SECRET not in text
    assert "tb-buyer-0042" not in text  # the buyer's chat handle is masked too
    assert [entry["event"] for entry in logs] == [
        "notice.sent", "notice.offline", "notice.send_failed", "notice.send_failed", "notice.send_failed",
    ]
    assert logs[0]["provider_id"] == "qn-123" and logs[0]["channel"] == "chat"


def test_entry_points_registered() -> None:
    found = {ep.name: ep for ep in entry_points(group="parcelwatch.notifiers")}
    assert {"sms", "chat", "console"} <= set(found)
    assert found["chat"].load() is ChatWebhook
