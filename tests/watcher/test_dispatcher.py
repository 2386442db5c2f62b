"""The dispatcher over in-memory channels: channel choice, quiet hours, supersession,
retries, opt-outs, the daily cap and crash reconciliation — each notice exactly once."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from notifiers.base import Channel, Message, Recipient, SendResult, SendState
from tests.support import make_settings
from watcher.clock import ManualClock
from watcher.dispatcher import Dispatcher
from watcher.errors import ChannelPermanent, ChannelRetryable
from watcher.store.db import Database
from watcher.store.models import Notice, OptOut, Parcel

SH = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 11, 20, 12, 0, tzinfo=SH).astimezone(timezone.utc)
TRANSIT = {"status": "in_transit", "stage": "transit", "flags": []}


class Recorder(Channel):
    name = "sms"
    kind = "sms"

    def __init__(self, outcomes: list[object] | None = None, **kw: object) -> None:
        super().__init__(**kw)
        self.sent: list[tuple[Recipient, Message]] = []
        self.outcomes = list(outcomes or [])
        self.accepted: list[dict[str, object]] = []

    async def send(self, recipient: Recipient, message: Message) -> SendResult:
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if isinstance(outcome, Exception):
            if getattr(outcome, "ambiguous", False):
                self.accepted.append({"sid": "SMlost", "body": message.body})
            raise outcome
        if outcome is SendState.OFFLINE:
            return SendResult(SendState.OFFLINE)
        self.sent.append((recipient, message))
        return SendResult(SendState.SENT if self.kind == "sms" else SendState.DELIVERED, provider_id=f"id{len(self.sent)}")

    def list_recent(self, to: str, since: datetime) -> list[dict[str, object]]:
        return list(self.accepted)


class ChatRecorder(Recorder):
    name = "chat"
    kind = "chat"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOON)


def add(db: Database, number: str = "ZT1", *, verdict: dict = TRANSIT, phone: str | None = "+8613912345678",
        chat: str | None = None, kind: str = "dispatch") -> int:
    with db.session() as s:
        p = Parcel(courier="zhongtong", tracking_number=number, created_at=NOON, updated_at=NOON, buyer_phone=phone,
                   buyer_chat_id=chat, city="深圳市", verdict=json.dumps(verdict), status=verdict["status"])
        s.add(p)
        s.flush()
        s.add(Notice(parcel_id=p.id, kind=kind, idempotency_key=f"{kind}:{p.id}", created_at=NOON, not_before=NOON))
        return p.id  # type: ignore[return-value]


def notices(db: Database) -> list[Notice]:
    with db.session() as s:
        return list(s.exec(select(Notice).order_by(Notice.id)).all())


def dispatch(db: Database, clock: ManualClock, channels: dict[str, Channel], /, **notices_settings: object):
    settings = make_settings(shop={"name": "小鲸鱼旗舰店", "sms_signature": "小鲸鱼"}, notices=notices_settings)
    return asyncio.run(Dispatcher(db, settings, channels, clock=clock, owner="t").run_once())


def test_sms_when_the_buyer_has_no_chat(db: Database, clock: ManualClock) -> None:
    add(db)
    sms = Recorder()
    summary = dispatch(db, clock, {"sms": sms, "chat": ChatRecorder()})
    [(recipient, message)] = sms.sent
    assert summary.sent == 1 and message.body.startswith("【小鲸鱼】") and message.idempotency_key == "dispatch:1"
    [n] = notices(db)
    assert (n.state, n.channel, n.provider_message_id, n.sent_at) == ("sent", "sms", "id1", NOON)
    assert dispatch(db, clock, {"sms": sms}).claimed == 0  # nothing twice


def test_chat_first_then_sms_when_offline(db: Database, clock: ManualClock) -> None:
    add(db, "A", chat="buyer-a")
    add(db, "B", chat="buyer-b")
    chat, sms = ChatRecorder([None, SendState.OFFLINE]), Recorder()
    dispatch(db, clock, {"sms": sms, "chat": chat})
    assert [m.idempotency_key for _, m in chat.sent] == ["dispatch:1"]
    assert [m.idempotency_key for _, m in sms.sent] == ["dispatch:2"]
    assert [(n.state, n.channel) for n in notices(db)] == [("delivered", "chat"), ("sent", "sms")]


def test_quiet_hours_defer_and_never_drop(db: Database, clock: ManualClock) -> None:
    add(db)
    sms = Recorder()
    clock.set(datetime(2026, 11, 20, 22, 30, tzinfo=SH))
    summary = dispatch(db, clock, {"sms": sms})
    [n] = notices(db)
    assert summary.deferred == 1 and n.state == "deferred" and n.not_before == datetime(2026, 11, 21, 8, 0, tzinfo=SH)
    clock.set(datetime(2026, 11, 21, 7, 59, tzinfo=SH))
    dispatch(db, clock, {"sms": sms})
    assert sms.sent == []
    clock.set(datetime(2026, 11, 21, 8, 0, tzinfo=SH))
    dispatch(db, clock, {"sms": sms})
    assert len(sms.sent) == 1 and notices(db)[0].state == "sent"
    add(db, "LATE")
    clock.set(datetime(2026, 11, 21, 23, 0, tzinfo=SH))
    assert dispatch(db, clock, {"sms": sms}, quiet_hours="").sent == 1  # "" disables quiet hours


def test_superseded_milestones_are_suppressed(db: Database, clock: ManualClock) -> None:
    add(db, verdict={"status": "delivered", "stage": "delivered", "flags": []})
    sms = Recorder()
    assert dispatch(db, clock, {"sms": sms}).suppressed == 1
    assert sms.sent == [] and notices(db)[0].state == "suppressed"


def test_retryable_errors_back_off_then_fail(db: Database, clock: ManualClock) -> None:
    add(db)
    sms = Recorder([ChannelRetryable("HTTP 500", code="500")] * 2)
    dispatch(db, clock, {"sms": sms}, max_attempts=2)
    [n] = notices(db)
    assert n.state == "queued" and n.not_before == NOON + timedelta(minutes=2) and "500" in n.error
    clock.advance(minutes=3)
    dispatch(db, clock, {"sms": sms}, max_attempts=2)
    assert notices(db)[0].state == "failed" and sms.sent == []


def test_stop_opt_out_is_remembered(db: Database, clock: ManualClock) -> None:
    add(db, "A")
    sms = Recorder([ChannelPermanent("unsubscribed", code="21610")])
    dispatch(db, clock, {"sms": sms})
    assert notices(db)[0].state == "failed" and "call the buyer" in notices(db)[0].error
    with db.session() as s:
        [opt] = s.exec(select(OptOut)).all()
    assert (opt.channel, opt.address) == ("sms", "+8613912345678")
    add(db, "B")  # same buyer: never texted again
    dispatch(db, clock, {"sms": sms})
    assert sms.sent == [] and "opted out" in notices(db)[1].error


def test_daily_cap_defers_to_tomorrow(db: Database, clock: ManualClock) -> None:
    for i in range(4):
        add(db, f"P{i}")
    sms = Recorder()
    dispatch(db, clock, {"sms": sms}, daily_cap=3)
    states = [n.state for n in notices(db)]
    assert states.count("sent") == 3 and states.count("deferred") == 1
    assert notices(db)[3].not_before == datetime(2026, 11, 21, 8, 0, tzinfo=SH)


def test_no_channel_means_call_the_buyer(db: Database, clock: ManualClock) -> None:
    add(db, phone=None)
    dispatch(db, clock, {"sms": Recorder()})
    assert notices(db)[0].state == "failed" and "call the buyer" in notices(db)[0].error


@pytest.mark.parametrize("accepted", [True, False], ids=["provider-had-it", "provider-never-saw-it"])
def test_crash_mid_send_is_reconciled_not_resent(db: Database, clock: ManualClock, accepted: bool) -> None:
    add(db)
    timeout = ChannelRetryable("read timeout", code="timeout")
    timeout.ambiguous = True  # type: ignore[attr-defined]
    sms = Recorder([timeout])
    if not accepted:
        sms.accepted = []
    dispatch(db, clock, {"sms": sms})
    if not accepted:
        sms.accepted.clear()
    assert notices(db)[0].state == "sending"
    clock.advance(minutes=3)
    dispatch(db, clock, {"sms": sms})
    n = notices(db)[0]
    if accepted:
        assert n.state == "sent" and n.provider_message_id == "SMlost" and sms.sent == []
    else:
        assert n.state == "sent" and len(sms.sent) == 1


def test_daily_follow_ups_once_a_day_and_bounded(db: Database, clock: ManualClock) -> None:
    from watcher.followups import plan_daily_follow_ups

    since = (NOON - timedelta(hours=60)).isoformat()
    stalled = {"status": "in_transit", "stage": "transit",
               "flags": [{"flag": "stalled", "code": "transit_stall", "reason": "r", "since": since}]}
    pid = add(db, verdict=stalled, kind="delay")
    with db.session() as s:
        p = s.get(Parcel, pid)
        p.flags = ",stalled,"
        s.add(p)
    settings = make_settings(notices={"follow_up_max": 2})
    assert plan_daily_follow_ups(db, settings, clock.now()) == 1
    assert plan_daily_follow_ups(db, settings, clock.now()) == 0  # same day: nothing new
    clock.advance(days=1)
    assert plan_daily_follow_ups(db, settings, clock.now()) == 1
    clock.advance(days=1)
    assert plan_daily_follow_ups(db, settings, clock.now()) == 0  # follow_up_max reached
    assert [n.kind for n in notices(db)] == ["delay", "follow_up", "follow_up"]


def test_presence_offline_skips_chat_and_callbacks_are_not_overwritten(db: Database, clock: ManualClock) -> None:
    from watcher.store.models import ChatPresence

    add(db, "A", chat="buyer-a")
    with db.session() as s:
        s.add(ChatPresence(chat_id="buyer-a", online=False, updated_at=NOON))
    chat, sms = ChatRecorder(), Recorder()
    dispatch(db, clock, {"sms": sms, "chat": chat})
    assert chat.sent == [] and len(sms.sent) == 1

    class Racing(Recorder):  # Twilio's "delivered" callback lands before our own "sent" write
        async def send(self, recipient: Recipient, message: Message) -> SendResult:
            result = await super().send(recipient, message)
            with db.session() as s:
                n = s.exec(select(Notice).where(Notice.idempotency_key == message.idempotency_key)).one()
                n.state = "delivered"
                s.add(n)
            return result

    add(db, "B")
    dispatch(db, clock, {"sms": Racing()})
    assert notices(db)[1].state == "delivered"


def test_shop_templates_override_the_built_ins(db: Database, clock: ManualClock, tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "templates" / "zh-CN"
    folder.mkdir(parents=True)
    (folder / "dispatch.j2").write_text("{{ courier_name }}已发货，单号{{ tracking_number }}", encoding="utf-8")
    add(db)
    sms = Recorder()
    dispatch(db, clock, {"sms": sms}, templates_dir=str(tmp_path / "templates"))
    [(_, message)] = sms.sent
    assert message.body.startswith("【小鲸鱼】中通快递已发货，单号ZT1")


class WhatsAppRecorder(Recorder):
    name = "whatsapp"
    kind = "sms"


def skipping(db: Database, channels: str) -> None:
    """One queued notice whose ``channels`` accepted it earlier and reported it undelivered."""
    add(db)
    with db.session() as s:
        n = s.exec(select(Notice)).one()
        n.skip_channels = channels
        s.add(n)


def test_a_channel_that_did_not_deliver_is_skipped_next_time(db: Database, clock: ManualClock) -> None:
    skipping(db, "whatsapp")
    wa, sms = WhatsAppRecorder(), Recorder()
    dispatch(db, clock, {"whatsapp": wa, "sms": sms}, channels=["whatsapp", "sms"])
    (n,) = notices(db)
    assert wa.sent == [] and len(sms.sent) == 1 and (n.state, n.channel) == ("sent", "sms")


def test_when_every_channel_left_is_skipped_the_buyer_is_to_be_called(db: Database, clock: ManualClock) -> None:
    skipping(db, "whatsapp,sms")
    dispatch(db, clock, {"whatsapp": WhatsAppRecorder(), "sms": Recorder()}, channels=["whatsapp", "sms"])
    (n,) = notices(db)
    assert n.state == "failed" and n.error.startswith("whatsapp: not delivered; sms: not delivered")
