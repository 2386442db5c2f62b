"""The channel contract: settings validated with the key named, limits enforced, secrets hidden."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import SecretStr

from notifiers.base import Channel, ChannelSettings, Message, Recipient, SendResult, SendState
from watcher.errors import ChannelPermanent, ConfigError


class _Settings(ChannelSettings):
    token: SecretStr = SecretStr("")
    url: str = "http://127.0.0.1"


class Echo(Channel):
    name = "echo"
    kind = "chat"
    max_length = 10
    Settings = _Settings

    async def send(self, recipient: Recipient, message: Message) -> SendResult:
        self.check_length(message)
        return SendResult(SendState.DELIVERED, provider_id="e1")


def test_settings_errors_name_the_key() -> None:
    with pytest.raises(ConfigError, match=r"^echo\.tokn: unknown key$"):
        Echo({"tokn": "x"})


def test_repr_hides_secrets() -> None:
    assert "s3cret" not in repr(Echo({"token": "s3cret"}))


def test_reach_and_length() -> None:
    echo = Echo()
    assert echo.can_reach(Recipient(chat_id="buyer-1")) and not echo.can_reach(Recipient(phone="+8613800000000"))
    ok = asyncio.run(echo.send(Recipient(chat_id="b"), Message("short", "dispatch", "k1")))
    assert ok.state is SendState.DELIVERED
    with pytest.raises(ChannelPermanent, match="exceeds 10"):
        asyncio.run(echo.send(Recipient(chat_id="b"), Message("x" * 11, "dispatch", "k2")))
