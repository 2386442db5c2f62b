"""TwilioSMS against the local Twilio fake through the official SDK: fields, errors, ambiguity."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from importlib.metadata import entry_points
from typing import Any

import pytest
from structlog.testing import capture_logs

from notifiers.base import Message, Recipient, SendState
from notifiers.twilio_sms import ChannelAmbiguous, TwilioSMS
from tests.fakes.twilio import TwilioFake, serve_in_thread
from watcher.errors import ChannelPermanent, ChannelRetryable, ConfigError

PHONE = "+8613912345678"
TOKEN = "tok-s3cret-never-printed"
SID = "AC" + "ab" * 16
BUYER = Recipient(phone=PHONE)


@pytest.fixture
def fake() -> TwilioFake:
    return TwilioFake(account_sid=SID, auth_token=TOKEN)


@pytest.fixture
def base_url(fake: TwilioFake) -> Iterator[str]:
    with serve_in_thread(fake) as url:
        yield url


def channel(base_url: str, **overrides: Any) -> TwilioSMS:
    settings = {"account_sid": SID, "auth_token": TOKEN, "from_number": "+15005550006", "base_url": base_url}
    settings.update(overrides)
    return TwilioSMS({k: v for k, v in settings.items() if v is not None})


def send(ch: TwilioSMS, body: str = "【小鲸鱼】您的包裹已发出", recipient: Recipient = BUYER) -> Any:
    return asyncio.run(ch.send(recipient, Message(body, "dispatch", "notice-1")))


def test_send_returns_sid_and_segments(fake: TwilioFake, base_url: str) -> None:
    result = send(channel(base_url), "包" * 71)
    assert result.state is SendState.SENT
    assert result.provider_id == fake.messages[0]["sid"]
    assert result.provider_id.startswith("SM") and len(result.provider_id) == 34
    assert result.segments == 2
    assert send(channel(base_url), "hello").segments == 1


def test_request_fields_from_number(fake: TwilioFake, base_url: str) -> None:
    send(channel(base_url, status_callback_url="https://shop.example/twilio/status"), "hi")
    (request,) = fake.requests
    assert request["method"] == "POST"
    assert request["path"] == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request["form"] == {
        "To": PHONE, "From": "+15005550006", "Body": "hi",
        "StatusCallback": "https://shop.example/twilio/status",
    }


def test_request_fields_messaging_service(fake: TwilioFake, base_url: str) -> None:
    send(channel(base_url, from_number=None, messaging_service_sid="MG" + "1" * 32), "hi")
    assert fake.requests[0]["form"] == {"To": PHONE, "MessagingServiceSid": "MG" + "1" * 32, "Body": "hi"}


@pytest.mark.parametrize("code", [21211, 21408, 21612, 21614, 30003, 30005, 30006])
def test_permanent_errors(fake: TwilioFake, base_url: str, code: int) -> None:
    fake.error_next(code=code, status=400)
    with pytest.raises(ChannelPermanent) as info:
        send(channel(base_url))
    assert info.value.code == str(code) and info.value.channel == "sms"
    assert not fake.messages


def test_opted_out_buyer_is_permanent(fake: TwilioFake, base_url: str) -> None:
    fake.opt_out(PHONE)
    with pytest.raises(ChannelPermanent) as info:
        send(channel(base_url))
    assert info.value.code == "21610"


@pytest.mark.parametrize(("inject", "code"), [("error_429", "20429"), ("fail_429", "429"), ("fail_500", "500"),
                                              ("fail_503", "503")])
def test_retryable_errors(fake: TwilioFake, base_url: str, inject: str, code: str) -> None:
    if inject == "error_429":
        fake.error_next(code=20429, status=429)
    else:
        fake.fail_next(status=int(inject.split("_")[1]))
    with pytest.raises(ChannelRetryable) as info:
        send(channel(base_url))
    assert info.value.code == code and not isinstance(info.value, ChannelAmbiguous)
    assert send(channel(base_url)).state is SendState.SENT  # the next attempt goes through


def test_connection_refused_is_retryable_not_ambiguous(fake: TwilioFake) -> None:
    with serve_in_thread(fake) as url:
        pass  # closed: nothing listens there any more
    with pytest.raises(ChannelRetryable) as info:
        send(channel(url))
    assert not getattr(info.value, "ambiguous", False) and info.value.code == "connect"


def test_timeout_after_acceptance_is_ambiguous_and_reconcilable(fake: TwilioFake, base_url: str) -> None:
    since = datetime.now(timezone.utc) - timedelta(minutes=1)
    fake.hang_next()
    ch = channel(base_url, timeout_seconds=0.3)
    with pytest.raises(ChannelAmbiguous) as info:
        send(ch, "您的包裹已到达")
    assert info.value.ambiguous and info.value.code == "timeout"
    assert isinstance(info.value, ChannelRetryable)
    # Twilio did accept it: the dispatcher finds it instead of sending it twice
    recent = ch.list_recent(PHONE, since)
    assert [m["sid"] for m in recent] == [fake.messages[0]["sid"]]
    assert recent[0]["body"] == "您的包裹已到达" and recent[0]["to"] == PHONE
    assert recent[0]["date_created"].tzinfo is not None
    query = fake.requests[-1]["query"]
    assert query["To"] == PHONE and query["DateSent>"] == since.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_list_recent_filters_and_pages(fake: TwilioFake, base_url: str) -> None:
    ch = channel(base_url)
    for i in range(5):
        send(ch, f"notice {i}")
    send(ch, "other buyer", Recipient(phone="+8613800000000"))
    fake.requests.clear()
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    assert ch.list_recent(PHONE, later) == []
    recent = ch._sdk().list_messages(PHONE, later - timedelta(days=1), limit=5)
    assert [m["body"] for m in recent] == [f"notice {i}" for i in (4, 3, 2, 1, 0)]
    # with a page size below the hits the SDK follows next_page_uri through base_url
    records = ch._sdk().sdk.messages.list(to=PHONE, page_size=2)
    assert len(records) == 5
    assert sum(1 for r in fake.requests if r["method"] == "GET") >= 1 + 1 + 3


def test_wrong_credentials_are_a_config_error(fake: TwilioFake, base_url: str) -> None:
    with pytest.raises(ConfigError, match=r"^twilio\.auth_token:") as info:
        send(channel(base_url, auth_token="wrong-token"))
    assert "wrong-token" not in str(info.value)
    assert not fake.messages


@pytest.mark.parametrize(("missing", "key"), [("account_sid", "twilio.account_sid"), ("auth_token", "twilio.auth_token"),
                                              ("from_number", "twilio.from_number")])
def test_missing_settings_name_the_key_when_sending(base_url: str, missing: str, key: str) -> None:
    ch = channel(base_url, **{missing: None})  # construction works: discovery may build it unconfigured
    with pytest.raises(ConfigError, match=rf"^{key}:"):
        send(ch)


def test_both_senders_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"^twilio: .*exactly one"):
        TwilioSMS({"from_number": "+15005550006", "messaging_service_sid": "MG1"})
    with pytest.raises(ConfigError, match=r"^twilio\.form_number: unknown key$"):
        TwilioSMS({"form_number": "+15005550006"})


def test_limits_declared() -> None:
    assert (TwilioSMS.name, TwilioSMS.kind, TwilioSMS.max_length) == ("sms", "sms", 1600)
    assert TwilioSMS.rate_limit == 1.0
    with pytest.raises(ChannelPermanent, match="exceeds 1600"):
        send(TwilioSMS(), "x" * 1601)


def test_no_token_or_phone_in_repr_or_logs(fake: TwilioFake, base_url: str, caplog: pytest.LogCaptureFixture) -> None:
    ch = channel(base_url)
    assert TOKEN not in repr(ch) and TOKEN not in str(ch.settings)
    caplog.set_level(logging.DEBUG)
    with capture_logs() as logs:
        send(ch)
        fake.error_next(code=21211)
        with pytest.raises(ChannelPermanent):
            send(ch)
        fake.hang_next()
        slow = channel(base_url, timeout_seconds=0.2)
        with pytest.raises(ChannelAmbiguous):
            send(slow)
        with pytest.raises(ConfigError):
            send(channel(base_url, auth_token="another-secret"))
    events = [entry["event"] for entry in logs]
    assert events[:3] == ["notice.sent", "notice.send_failed", "notice.send_ambiguous"]
    text = repr(logs) + caplog.text
    assert TOKEN not in text and "another-secret" not in text
    assert PHONE not in text and "13912345678" not in text
    assert logs[0]["to"] == "+86139****5678"


def test_entry_point_loads() -> None:
    (ep,) = [ep for ep in entry_points(group="parcelwatch.notifiers") if ep.name == "sms"]
    assert ep.load() is TwilioSMS


def test_from_app_settings() -> None:
    from watcher.settings import TwilioSettings

    ch = TwilioSMS.from_settings(TwilioSettings(account_sid=SID, auth_token=TOKEN, messaging_service_sid="MG1",
                                                whatsapp_from="whatsapp:+1"), timeout_seconds=3)
    assert ch.settings.messaging_service_sid == "MG1" and ch.settings.timeout_seconds == 3
    assert ch.settings.auth_token.get_secret_value() == TOKEN
