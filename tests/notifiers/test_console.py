"""The console channel: one masked line per notice, numbered ids, registered as a notifier."""

from __future__ import annotations

import asyncio
import io
from importlib.metadata import entry_points

import pytest

from notifiers.base import Message, Recipient, SendResult, SendState
from notifiers.console import ConsoleChannel, format_line
from watcher.errors import ChannelPermanent


def send(ch: ConsoleChannel, recipient: Recipient, message: Message) -> SendResult:
    return asyncio.run(ch.send(recipient, message))


def test_line_masks_the_phone_and_counts_segments() -> None:
    out = io.StringIO()
    ch = ConsoleChannel(stream=out)
    body = "【小鲸鱼】您的包裹已发出"
    result = send(ch, Recipient(phone="+8613912345678", name="张三"), Message(body, "dispatch", "k1"))
    assert out.getvalue() == f"[notice] dispatch → +86139****5678 (1 seg): {body}\n"
    assert result == SendResult(SendState.DELIVERED, provider_id="console-1", segments=1)
    assert "13912345678" not in out.getvalue() and "张三" not in out.getvalue()


def test_ids_count_up_and_long_bodies_show_segments() -> None:
    out = io.StringIO()
    ch = ConsoleChannel(stream=out)
    send(ch, Recipient(phone="13912345678"), Message("hello", "dispatch", "k1"))
    second = send(ch, Recipient(phone="13912345678"), Message("包" * 71, "delay", "k2"))
    assert second.provider_id == "console-2" and second.segments == 2
    first_line, second_line = out.getvalue().splitlines()
    assert first_line == "[notice] dispatch → 139****5678 (1 seg): hello"
    assert second_line.startswith("[notice] delay → 139****5678 (2 seg): 包")


def test_chat_id_when_no_phone() -> None:
    out = io.StringIO()
    ch = ConsoleChannel(stream=out)
    assert ch.can_reach(Recipient(chat_id="buyer-42"))
    send(ch, Recipient(chat_id="buyer-42"), Message("hi", "arrived_city", "k1"))
    assert out.getvalue() == "[notice] arrived_city → b* (1 seg): hi\n"


def test_no_address_is_permanent() -> None:
    ch = ConsoleChannel(stream=io.StringIO())
    assert not ch.can_reach(Recipient())
    with pytest.raises(ChannelPermanent) as info:
        send(ch, Recipient(), Message("hi", "dispatch", "k1"))
    assert info.value.code == "no_address"


def test_defaults_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    ch = ConsoleChannel()
    assert (ch.name, ch.kind) == ("console", "sms")
    send(ch, Recipient(phone="+8613912345678"), Message("hi", "dispatch", "k1"))
    assert capsys.readouterr().out == "[notice] dispatch → +86139****5678 (1 seg): hi\n"


def test_format_line_is_pure() -> None:
    assert format_line(Recipient(phone="+15005550006"), Message("ok", "follow_up", "k")) == (
        "[notice] follow_up → +150****0006 (1 seg): ok"
    )


def test_entry_points_include_every_builtin_channel() -> None:
    found = {ep.name: ep for ep in entry_points(group="parcelwatch.notifiers")}
    assert {"sms", "chat", "console"} <= set(found)
    assert found["console"].load() is ConsoleChannel
