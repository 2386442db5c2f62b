"""WhatsApp against the local Twilio fake through the official SDK: the 24-hour window, templates, errors."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from importlib.metadata import entry_points
from typing import Any

import pytest
from structlog.testing import capture_logs

from notifiers.base import Message, Recipient, SendState
from notifiers.twilio_sms.errors import to_channel_error
from notifiers.whatsapp import ChannelAmbiguous, WhatsApp
from tests.fakes.twilio import TwilioFake, serve_in_thread
from watcher.errors import ChannelPermanent, ChannelRetryable, ConfigError

PHONE = "+8613912345678"
TOKEN = "tok-s3cret-never-printed"
SID = "AC" + "ab" * 16
SENDER = "+14155238886"
DELAY_SID = "HX" + "d" * 32
BUYER = Recipient(phone=PHONE)
BODY = "您的包裹运输延误，我们正在跟进"


@pytest.fixture
def fake() -> TwilioFake:
    fake = TwilioFake(account_sid=SID, auth_token=TOKEN)
    fake.add_content(DELAY_SID, "【小鲸鱼】{{1}}")
    return fake


@pytest.fixture
def base_url(fake: TwilioFake) -> Iterator[str]:
    with serve_in_thread(fake) as url:
        yield url


def channel(base_url: str, **overrides: Any) -> WhatsApp:
    settings: dict[str, Any] = {"account_sid": SID, "auth_token": TOKEN, "whatsapp_from": SENDER,
                                "base_url": base_url, "whatsapp_templates": {"delay": DELAY_SID}}
    settings.update(overrides)
    return WhatsApp({k: v for k, v in settings.items() if v is not None})


def send(ch: WhatsApp, kind: str = "delay", body: str = BODY, recipient: Recipient = BUYER, **extra: Any) -> Any:
    return asyncio.run(ch.send(recipient, Message(body, kind, "notice-1", **extra)))


def test_inside_window_sends_free_text(fake: TwilioFake, base_url: str) -> None:
    fake.open_window(PHONE)
    result = send(channel(base_url))
    assert result.state is SendState.SENT
    (message,) = fake.messages
    assert result.provider_id == message["sid"] and message["sid"].startswith("SM")
    assert (message["to"], message["from"], message["body"]) == (f"whatsapp:{PHONE}", f"whatsapp:{SENDER}", BODY)
    (request,) = fake.requests
    assert request["form"] == {"To": f"whatsapp:{PHONE}", "From": f"whatsapp:{SENDER}", "Body": BODY}


def test_outside_window_resends_as_template(fake: TwilioFake, base_url: str) -> None:
    result = send(channel(base_url, status_callback_url="https://shop.example/twilio/status"))
    assert result.state is SendState.SENT
    free, template = fake.requests
    assert free["form"]["Body"] == BODY and "ContentSid" not in free["form"]
    assert template["form"] == {
        "To": f"whatsapp:{PHONE}", "From": f"whatsapp:{SENDER}",
        "ContentSid": DELAY_SID, "ContentVariables": json.dumps({"1": BODY}, ensure_ascii=False),
        "StatusCallback": "https://shop.example/twilio/status",
    }
    (message,) = fake.messages  # the refused free text was never stored
    assert result.provider_id == message["sid"]
    assert message["body"] == f"【小鲸鱼】{BODY}" and message["_content_sid"] == DELAY_SID


def test_template_uses_message_variables_and_own_template(fake: TwilioFake, base_url: str) -> None:
    own = "HX" + "e" * 32
    fake.add_content(own, "{{name}}: parcel {{number}}")
    result = send(channel(base_url), kind="dispatch", template=own,
                  variables={"name": "张三", "number": "ZT123"})
    assert result.state is SendState.SENT
    assert fake.requests[-1]["form"]["ContentSid"] == own
    assert json.loads(fake.requests[-1]["form"]["ContentVariables"]) == {"name": "张三", "number": "ZT123"}
    assert fake.messages[0]["body"] == "张三: parcel ZT123"


def test_outside_window_without_template_is_offline(fake: TwilioFake, base_url: str) -> None:
    with capture_logs() as logs:
        result = send(channel(base_url), kind="arrived_city")
    assert result.state is SendState.OFFLINE and "arrived_city" in result.detail
    assert len(fake.requests) == 1 and not fake.messages
    assert [e["event"] for e in logs] == ["notice.whatsapp_window_closed"]


def test_template_refused_outside_window_is_offline_too() -> None:
    """63016 on the template send (e.g. a content type that cannot start a conversation): OFFLINE, not failed."""
    calls: list[dict[str, Any]] = []
    ch = WhatsApp({"account_sid": SID, "auth_token": TOKEN, "whatsapp_from": SENDER,
                   "whatsapp_templates": {"delay": DELAY_SID}})

    class Refusing:
        def create_message(self, **fields: Any) -> dict[str, Any]:
            calls.append(fields)
            raise to_channel_error(63016, 400, "outside window", channel="whatsapp")

    ch._client = Refusing()  # type: ignore[assignment]
    result = send(ch)
    assert result.state is SendState.OFFLINE
    assert [("content_sid" in c) for c in calls] == [False, True]


@pytest.mark.parametrize("kind", ["delay", "arrived_city"])
def test_63016_never_surfaces_as_a_failure(fake: TwilioFake, base_url: str, kind: str) -> None:
    with capture_logs() as logs:
        result = send(channel(base_url), kind=kind)
    assert result.state in (SendState.SENT, SendState.OFFLINE)
    assert "notice.send_failed" not in [e["event"] for e in logs]


@pytest.mark.parametrize("code", [21211, 21610])
def test_other_twilio_errors_are_mapped(fake: TwilioFake, base_url: str, code: int) -> None:
    fake.error_next(code=code, status=400)
    with pytest.raises(ChannelPermanent) as info:
        send(channel(base_url))
    assert info.value.code == str(code) and info.value.channel == "whatsapp"


def test_operator_errors_are_config_errors_naming_the_key(fake: TwilioFake, base_url: str) -> None:
    fake.open_window(PHONE)
    fake.error_next(code=63007, status=400)
    with pytest.raises(ConfigError, match=r"^twilio\.whatsapp_from: .*63007"):
        send(channel(base_url))
    fake.close_window(PHONE)
    unknown = "HX" + "0" * 32  # not approved at the fake: 21655
    with pytest.raises(ConfigError, match=r"^twilio\.whatsapp_templates\.delay: .*HX0+ \(21655\)"):
        send(channel(base_url, whatsapp_templates={"delay": unknown}))
    with pytest.raises(ConfigError, match=r"^the notice's template: "):
        send(channel(base_url), template=unknown)


def test_template_send_errors_are_mapped(fake: TwilioFake, base_url: str) -> None:
    fake.error_next(code=21610, status=400)  # refused for good: no template attempt
    with pytest.raises(ChannelPermanent) as info:
        send(channel(base_url))
    assert info.value.code == "21610" and len(fake.requests) == 1
    fake.requests.clear()
    fake.error_next(code=63016, status=400)  # the free text, then the template send is rate limited
    fake.error_next(code=20429, status=429)
    with pytest.raises(ChannelRetryable) as retry:
        send(channel(base_url))
    assert retry.value.code == "20429" and "ContentSid" in fake.requests[1]["form"]


@pytest.mark.parametrize(("inject", "code"), [("fail", "500"), ("error", "20429")])
def test_retryable_errors(fake: TwilioFake, base_url: str, inject: str, code: str) -> None:
    fake.open_window(PHONE)
    if inject == "fail":
        fake.fail_next(status=500)
    else:
        fake.error_next(code=20429, status=429)
    with pytest.raises(ChannelRetryable) as info:
        send(channel(base_url))
    assert info.value.code == code and not getattr(info.value, "ambiguous", False)


def test_timeout_after_acceptance_is_ambiguous_and_reconcilable(fake: TwilioFake, base_url: str) -> None:
    fake.open_window(PHONE)
    fake.hang_next()
    ch = channel(base_url, timeout_seconds=0.3)
    before = datetime.now(timezone.utc) - timedelta(minutes=1)
    with pytest.raises(ChannelAmbiguous) as info:
        send(ch)
    assert info.value.ambiguous and info.value.code == "timeout"
    (found,) = channel(base_url).list_recent(PHONE, before)
    assert found["body"] == BODY and found["to"] == f"whatsapp:{PHONE}"


def test_connection_refused_is_retryable_not_ambiguous() -> None:
    with pytest.raises(ChannelRetryable) as info:
        send(channel("http://127.0.0.1:9"))
    assert not getattr(info.value, "ambiguous", False)


def test_can_reach_any_buyer_with_a_phone() -> None:
    ch = WhatsApp()
    assert (ch.name, ch.kind) == ("whatsapp", "chat")
    assert ch.can_reach(Recipient(phone=PHONE)) and ch.address(Recipient(phone=PHONE, chat_id="w")) == PHONE
    assert ch.address(Recipient(chat_id="wangwang-1")) is None
    assert not ch.can_reach(Recipient(chat_id="wangwang-1"))
    with pytest.raises(ChannelPermanent, match="no phone"):
        send(ch, recipient=Recipient(chat_id="wangwang-1"))


@pytest.mark.parametrize(("missing", "key"), [("account_sid", "twilio.account_sid"),
                                              ("auth_token", "twilio.auth_token"),
                                              ("whatsapp_from", "twilio.whatsapp_from")])
def test_missing_settings_name_the_key_when_sending(base_url: str, missing: str, key: str) -> None:
    with pytest.raises(ConfigError, match=rf"^{key}: required"):
        send(channel(base_url, **{missing: None}))


def test_bad_settings_name_the_key() -> None:
    with pytest.raises(ConfigError, match=r"twilio\.whatsapp_templates"):
        WhatsApp({"whatsapp_templates": {"delay": "not-a-sid"}})
    with pytest.raises(ConfigError, match=r"^twilio\.from_number: unknown key$"):
        WhatsApp({"from_number": "+15005550006"})


def test_sender_prefix_is_accepted_once() -> None:
    ch = WhatsApp({"whatsapp_from": f"whatsapp:{SENDER}"})
    assert ch.request_fields(BUYER, Message("hi", "dispatch", "k"))["from_"] == f"whatsapp:{SENDER}"


def test_wrong_credentials_are_a_config_error(fake: TwilioFake, base_url: str) -> None:
    with pytest.raises(ConfigError, match="twilio.auth_token"):
        send(channel(base_url, auth_token="wrong"))


def test_no_token_or_phone_in_repr_or_logs(fake: TwilioFake, base_url: str, caplog: pytest.LogCaptureFixture) -> None:
    ch = channel(base_url)
    assert TOKEN not in repr(ch) and TOKEN not in str(ch.settings) and "****" in repr(ch)
    caplog.set_level(logging.DEBUG)
    with capture_logs() as logs:
        send(ch)  # outside the window: template
        send(ch, kind="follow_up")  # no template: offline
        fake.error_next(code=21211)
        with pytest.raises(ChannelPermanent):
            send(ch)
        with pytest.raises(ConfigError):
            send(channel(base_url, auth_token="another-secret"))
    events = [entry["event"] for entry in logs]
    assert events[:3] == ["notice.sent", "notice.whatsapp_window_closed", "notice.send_failed"]
    assert logs[0]["mode"] == "template"
    text = repr(logs) + caplog.text
    assert TOKEN not in text and "another-secret" not in text
    assert PHONE not in text and "13912345678" not in text
    assert logs[0]["to"] == "+86139****5678"


def test_entry_point_loads() -> None:
    (ep,) = [ep for ep in entry_points(group="parcelwatch.notifiers") if ep.name == "whatsapp"]
    assert ep.load() is WhatsApp


def test_from_app_settings() -> None:
    from watcher.settings import TwilioSettings

    twilio = TwilioSettings(account_sid=SID, auth_token=TOKEN, from_number="+15005550006",
                            whatsapp_from=SENDER, whatsapp_templates={"delay": DELAY_SID})
    ch = WhatsApp.from_settings(twilio, timeout_seconds=3)
    assert ch.settings.whatsapp_templates == {"delay": DELAY_SID} and ch.settings.timeout_seconds == 3
    assert ch.settings.auth_token.get_secret_value() == TOKEN


def test_built_from_settings_only_when_whatsapp_from_is_set() -> None:
    from notifiers.twilio_sms import TwilioSMS
    from watcher.settings import Settings

    def app(**twilio: Any) -> Settings:
        return Settings(twilio={"account_sid": SID, "auth_token": TOKEN, "from_number": "+15005550006", **twilio})

    assert WhatsApp.options_from(app()) is None
    options = WhatsApp.options_from(app(whatsapp_from=SENDER, whatsapp_templates={"delay": DELAY_SID}))
    assert options is not None
    ch = WhatsApp(options)
    assert ch.settings.whatsapp_from == SENDER and ch.settings.whatsapp_templates == {"delay": DELAY_SID}
    assert ch.settings.auth_token.get_secret_value() == TOKEN
    sms = TwilioSMS.options_from(app(whatsapp_from=SENDER, whatsapp_templates={"delay": DELAY_SID}))
    assert sms is not None and "whatsapp_templates" not in sms and "whatsapp_from" not in sms
