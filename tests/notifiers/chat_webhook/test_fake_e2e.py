"""ChatWebhook against the local chat-bridge fake over real HTTP: delivery, presence, idempotency."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from notifiers.base import Message, Recipient, SendResult, SendState
from notifiers.chat_webhook import ChatRetryable, ChatWebhook
from tests.fakes.chat_bridge import ChatBridgeFake, serve_in_thread
from tests.support import T0
from watcher.clock import ManualClock
from watcher.errors import ChannelPermanent, ConfigError

SECRET = "bridge-s3cret"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def fake(clock: ManualClock) -> ChatBridgeFake:
    return ChatBridgeFake(SECRET, clock=clock)


@pytest.fixture
def url(fake: ChatBridgeFake) -> Iterator[str]:
    with serve_in_thread(fake) as base:
        yield base + fake.path


def sends(ch: ChatWebhook, *items: tuple[Recipient, Message]) -> list[SendResult | Exception]:
    """Send each item in turn on one event loop and one connection pool; exceptions are returned."""

    async def run() -> list[SendResult | Exception]:
        out: list[SendResult | Exception] = []
        try:
            for recipient, message in items:
                try:
                    out.append(await ch.send(recipient, message))
                except Exception as exc:  # noqa: BLE001
                    out.append(exc)
        finally:
            await ch.aclose()
        return out

    return asyncio.run(run())


def channel(url: str, clock: ManualClock, **overrides: Any) -> ChatWebhook:
    return ChatWebhook({"url": url, "secret": SECRET, **overrides}, clock=clock)


def notice(key: str, body: str = "您的包裹已发出") -> Message:
    return Message(body, "dispatch", key)


ALICE = Recipient(chat_id="buyer-alice", language="en")
BOB = Recipient(chat_id="buyer-bob")


def test_delivered_and_recorded(fake: ChatBridgeFake, url: str, clock: ManualClock) -> None:
    (result,) = sends(channel(url, clock), (ALICE, notice("k1", "Your parcel is on its way")))
    assert result == SendResult(SendState.DELIVERED, provider_id="cm-000001")
    (message,) = fake.messages
    assert message["chat_id"] == "buyer-alice" and message["text"] == "Your parcel is on its way"
    assert message["language"] == "en" and message["idempotency_key"] == message["idempotency_key_header"] == "k1"


def test_offline_buyer(fake: ChatBridgeFake, url: str, clock: ManualClock) -> None:
    fake.set_online("buyer-bob", False)
    bob, alice = sends(channel(url, clock), (BOB, notice("k1")), (ALICE, notice("k2")))
    assert isinstance(bob, SendResult) and bob.state is SendState.OFFLINE
    assert isinstance(alice, SendResult) and alice.state is SendState.DELIVERED
    assert [m["chat_id"] for m in fake.messages] == ["buyer-alice"]
    fake.set_online("buyer-bob", True)
    (again,) = sends(channel(url, clock), (BOB, notice("k3")))
    assert isinstance(again, SendResult) and again.state is SendState.DELIVERED


def test_duplicate_key_delivers_once(fake: ChatBridgeFake, url: str, clock: ManualClock) -> None:
    first, second = sends(channel(url, clock), (ALICE, notice("same")), (ALICE, notice("same")))
    assert first == second == SendResult(SendState.DELIVERED, provider_id="cm-000001")
    assert len(fake.messages) == 1 and len(fake.requests) == 2


def test_retry_after_failure_then_success(fake: ChatBridgeFake, url: str, clock: ManualClock) -> None:
    fake.fail_next(1, 429, retry_after=30)
    first, second = sends(channel(url, clock), (ALICE, notice("k1")), (ALICE, notice("k1")))
    assert isinstance(first, ChatRetryable) and first.retry_after == 30.0
    assert isinstance(second, SendResult) and second.state is SendState.DELIVERED
    assert len(fake.messages) == 1


def test_bridge_failure_answers(fake: ChatBridgeFake, url: str, clock: ManualClock) -> None:
    fake.answer_next(1, {"status": "failed", "error": "buyer blocked the shop", "permanent": True})
    fake.answer_next(1, {"status": "failed", "error": "session expired", "permanent": False})
    blocked, expired = sends(channel(url, clock), (ALICE, notice("k1")), (BOB, notice("k2")))
    assert isinstance(blocked, ChannelPermanent) and "blocked" in str(blocked)
    assert isinstance(expired, ChatRetryable) and expired.code == "failed"
    assert not fake.messages


def test_wrong_secret_is_config_error(fake: ChatBridgeFake, url: str, clock: ManualClock) -> None:
    (result,) = sends(channel(url, clock, secret="wrong"), (ALICE, notice("k1")))
    assert isinstance(result, ConfigError) and str(result).startswith("chat.secret:")
    assert not fake.messages


def test_clock_skew_beyond_five_minutes_is_refused(fake: ChatBridgeFake, url: str, clock: ManualClock) -> None:
    ours = ManualClock(T0)
    ours.advance(seconds=301)
    (result,) = sends(channel(url, ours), (ALICE, notice("k1")))
    assert isinstance(result, ConfigError)
    ours.set(T0)
    (result,) = sends(channel(url, ours), (ALICE, notice("k1")))
    assert isinstance(result, SendResult) and result.state is SendState.DELIVERED


def test_wrong_path_is_permanent(fake: ChatBridgeFake, url: str, clock: ManualClock) -> None:
    (result,) = sends(channel(url + "-typo", clock), (ALICE, notice("k1")))
    assert isinstance(result, ChannelPermanent) and result.code == "404"


def test_connection_refused_is_retryable_not_ambiguous(clock: ManualClock) -> None:
    fake = ChatBridgeFake(SECRET, clock=clock)
    with serve_in_thread(fake) as base:
        pass  # the port is closed again
    (result,) = sends(channel(base + fake.path, clock), (ALICE, notice("k1")))
    assert isinstance(result, ChatRetryable) and result.code == "connect" and not result.ambiguous
