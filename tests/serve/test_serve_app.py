"""``parcelwatch serve`` handlers called directly: (ServeContext, Request) → Response."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import select
from sqlmodel import Session
from sqlmodel import select as sqlmodel_select
from structlog.testing import capture_logs
from twilio.request_validator import RequestValidator

from notifiers.chat_webhook import signing
from tests.support import T0, make_settings
from watcher.serve.app import STOP_WORDS, Request, ServeContext, handle
from watcher.store.models import ChatPresence, Notice, OptOut, Parcel

TOKEN = "twilio-test-token"
SECRET = "whsec-test"
PUBLIC = "https://shop.example.com/parcelwatch"
PHONE = "+8613912345678"


@pytest.fixture
def ctx(db, clock) -> ServeContext:
    settings = make_settings(twilio={"auth_token": TOKEN}, chat={"secret": SECRET}, serve={"public_url": PUBLIC})
    return ServeContext(settings, db, clock)


def add_notice(db, sid: str = "SM1", state: str = "sent", channel: str = "sms", number: str = "75300000000001") -> int:
    with Session(db.engine) as s:
        parcel = Parcel(courier="zhongtong", tracking_number=number, buyer_phone=PHONE,
                        created_at=T0, updated_at=T0, status="in_transit", flags=",stalled,")
        s.add(parcel)
        s.flush()
        notice = Notice(parcel_id=parcel.id, kind="dispatch", idempotency_key=f"k-{sid}", state=state,
                        channel=channel, created_at=T0, not_before=T0, sent_at=T0, provider_message_id=sid)
        s.add(notice)
        s.commit()
        return notice.id


def notice(db, notice_id: int) -> Notice:
    with Session(db.engine) as s:
        return s.get(Notice, notice_id)


def opt_outs(db) -> list[tuple[str, str, str]]:
    with db.engine.connect() as conn:
        T = OptOut.__table__
        return [tuple(r) for r in conn.execute(select(T.c.channel, T.c.address, T.c.source))]


def twilio_request(path: str, params: dict[str, str], *, token: str = TOKEN, url: str | None = None,
                   headers: dict[str, str] | None = None) -> Request:
    signature = RequestValidator(token).compute_signature(url or PUBLIC + path, params)
    return Request("POST", path, headers={"X-Twilio-Signature": signature,
                                          "Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
                   body=urlencode(params).encode("utf-8"))


def status(sid: str, value: str, error: str = "", to: str = PHONE) -> Request:
    params = {"MessageSid": sid, "MessageStatus": value, "To": to, "From": "+15005550006"}
    if error:
        params["ErrorCode"] = error
    return twilio_request("/twilio/status", params)


# -- /twilio/status --------------------------------------------------------------------------
def test_delivered_then_late_sent_stays_delivered(ctx, db, clock) -> None:
    nid = add_notice(db)
    clock.advance(minutes=1)
    assert handle(ctx, status("SM1", "delivered")).json() == {"status": "applied"}
    delivered_at = clock.now()
    clock.advance(minutes=1)
    assert handle(ctx, status("SM1", "sent")).json() == {"status": "unchanged"}
    n = notice(db, nid)
    assert n.state == "delivered" and n.delivered_at == delivered_at


def test_failed_after_delivered_stays_delivered(ctx, db, clock) -> None:
    nid = add_notice(db)
    handle(ctx, status("SM1", "delivered"))
    for late in ("failed", "undelivered"):
        assert handle(ctx, status("SM1", late, "30003")).status == 200
    n = notice(db, nid)
    assert n.state == "delivered" and n.error is None


def test_duplicate_delivered_updates_once(ctx, db, clock) -> None:
    nid = add_notice(db)
    first = clock.now()
    with capture_logs() as logs:
        assert handle(ctx, status("SM1", "delivered")).json()["status"] == "applied"
        clock.advance(minutes=5)
        assert handle(ctx, status("SM1", "delivered")).json()["status"] == "unchanged"
    assert notice(db, nid).delivered_at == first
    assert [e["event"] for e in logs].count("notice.status") == 1


def test_undelivered_marks_failed_with_error_code(ctx, db) -> None:
    nid = add_notice(db)
    handle(ctx, status("SM1", "undelivered", "30006"))
    n = notice(db, nid)
    assert n.state == "failed" and n.error == "twilio 30006"
    assert opt_outs(db) == []


def test_whatsapp_undelivered_later_goes_back_to_the_queue_for_sms(db, clock) -> None:
    """WhatsApp accepted the message, then reported 63016 (outside the 24-hour window): the
    notice is queued again for the channels after WhatsApp, never WhatsApp again."""
    ctx = ServeContext(make_settings(twilio={"auth_token": TOKEN}, serve={"public_url": PUBLIC},
                                     notices={"channels": ["whatsapp", "sms"]}), db, clock)
    nid = add_notice(db, sid="SMwa", channel="whatsapp")
    with capture_logs() as logs:
        r = handle(ctx, status("SMwa", "failed", "63016", to="whatsapp:" + PHONE))
    assert r.json() == {"status": "requeued"}
    n = notice(db, nid)
    assert (n.state, n.skip_channels, n.provider_message_id, n.not_before) == ("queued", "whatsapp", None, clock.now())
    assert n.error == "whatsapp: twilio 63016 after it was accepted; trying sms"
    assert [e for e in logs if e["event"] == "notice.fallback"][0]["next_channel"] == "sms"
    # a second report for the same message finds nothing to move
    assert handle(ctx, status("SMwa", "undelivered", "63016", to="whatsapp:" + PHONE)).json() == {"status": "unknown"}
    # SMS was the last channel: when it fails too, the notice stays failed (the buyer goes on the report)
    sms = add_notice(db, sid="SMsms", channel="sms", number="75300000000002")
    assert handle(ctx, status("SMsms", "undelivered", "30003")).json() == {"status": "applied"}
    assert notice(db, sms).state == "failed"


def test_twilio_queued_or_sending_never_moves_a_notice_back(ctx, db) -> None:
    nid = add_notice(db, state="sent")
    for value in ("queued", "accepted", "sending"):
        assert handle(ctx, status("SM1", value)).json() == {"status": "ignored"}
    assert notice(db, nid).state == "sent"


def test_sent_callback_moves_sending_forward(ctx, db) -> None:
    nid = add_notice(db, state="sending")
    handle(ctx, status("SM1", "sent"))
    assert notice(db, nid).state == "sent"


def test_21610_records_an_opt_out(ctx, db) -> None:
    nid = add_notice(db)
    assert handle(ctx, status("SM1", "failed", "21610")).status == 200
    assert handle(ctx, status("SM1", "failed", "21610")).status == 200  # again: still one row
    assert opt_outs(db) == [("sms", PHONE, "twilio_21610")]
    assert notice(db, nid).error == "twilio 21610"


def test_unknown_sid_is_ignored_and_logged_once(ctx, db) -> None:
    with capture_logs() as logs:
        for _ in range(2):
            r = handle(ctx, status("SMunknown", "delivered"))
            assert r.status == 200 and r.json() == {"status": "unknown"}
    assert [e for e in logs if e["event"] == "twilio.status_unknown_message"] == [
        {"event": "twilio.status_unknown_message", "sid": "SMunknown", "status": "delivered", "log_level": "info"}]


@pytest.mark.parametrize("path", ["/twilio/status", "/twilio/inbound"])
def test_bad_signature_is_403_and_writes_nothing(ctx, db, path) -> None:
    nid = add_notice(db)
    params = {"MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "21610", "To": PHONE,
              "From": PHONE, "Body": "STOP"}
    for request in (
        twilio_request(path, params, token="wrong-token"),
        twilio_request(path, params, url="https://elsewhere.example.com" + path),  # signed for another URL
        Request("POST", path, body=urlencode(params).encode()),  # no signature at all
    ):
        r = handle(ctx, request)
        assert r.status == 403 and b"\n" not in r.body and "error" in r.json()
    assert opt_outs(db) == [] and notice(db, nid).state == "sent"


def test_tampered_params_fail_the_signature(ctx, db) -> None:
    nid = add_notice(db)
    good = status("SM1", "delivered")
    tampered = Request("POST", good.path, headers=good.headers, body=good.body.replace(b"delivered", b"failed"))
    assert handle(ctx, tampered).status == 403
    assert notice(db, nid).state == "sent"


def test_empty_auth_token_refuses_everything(db, clock) -> None:
    ctx = ServeContext(make_settings(serve={"public_url": PUBLIC}), db, clock)
    assert handle(ctx, twilio_request("/twilio/inbound", {"From": PHONE, "Body": "STOP"}, token="")).status == 403
    assert opt_outs(db) == []


def test_without_public_url_the_host_header_url_is_signed(db, clock) -> None:
    ctx = ServeContext(make_settings(twilio={"auth_token": TOKEN}), db, clock)
    params = {"From": PHONE, "Body": "STOP"}
    ok = twilio_request("/twilio/inbound", params, url="http://hooks.local:8080/twilio/inbound",
                        headers={"Host": "hooks.local:8080"})
    assert handle(ctx, ok).status == 200
    assert opt_outs(db) == [("sms", PHONE, "inbound_stop")]


# -- /twilio/inbound -------------------------------------------------------------------------
@pytest.mark.parametrize("body", ["STOP", "stop", " Stop\n", "退订", " td ", "T", "退订回T", "unsubscribe", "QUIT"])
def test_inbound_stop_variants_opt_out(ctx, db, body) -> None:
    r = handle(ctx, twilio_request("/twilio/inbound", {"From": PHONE, "To": "+15005550006", "Body": body}))
    assert r.status == 200 and r.content_type.startswith("text/xml") and r.body.endswith(b"<Response></Response>")
    assert opt_outs(db) == [("sms", PHONE, "inbound_stop")]


@pytest.mark.parametrize("body", ["Where is my parcel?", "stop sending me the wrong size", "退订了吗", "", "TDX"])
def test_other_inbound_texts_opt_out_nobody(ctx, db, body) -> None:
    with capture_logs() as logs:
        r = handle(ctx, twilio_request("/twilio/inbound", {"From": PHONE, "Body": body}))
    assert r.status == 200 and r.body.endswith(b"<Response></Response>")
    assert opt_outs(db) == []
    assert PHONE not in json.dumps(logs, ensure_ascii=False) and "13912345678" not in json.dumps(logs)


@pytest.mark.parametrize("body", ["START", " unstop ", "Yes"])
def test_start_after_stop_lets_the_buyer_be_messaged_again(ctx, db, body) -> None:
    handle(ctx, twilio_request("/twilio/inbound", {"From": PHONE, "Body": "退订"}))
    handle(ctx, twilio_request("/twilio/inbound", {"From": "whatsapp:" + PHONE, "Body": "STOP"}))
    assert len(opt_outs(db)) == 2
    with capture_logs() as logs:
        r = handle(ctx, twilio_request("/twilio/inbound", {"From": PHONE, "Body": body}))
    assert r.status == 200 and opt_outs(db) == [("whatsapp", PHONE, "inbound_stop")]  # only that channel
    assert [e["event"] for e in logs] == ["buyer.opted_in"] and PHONE not in json.dumps(logs)
    with capture_logs() as logs:  # again: nothing to undo, nothing logged
        handle(ctx, twilio_request("/twilio/inbound", {"From": PHONE, "Body": body}))
    assert logs == []


def test_stop_words_are_the_documented_list() -> None:
    assert STOP_WORDS == {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "退订", "td", "t", "退订回t"}


def test_whatsapp_stop_is_a_whatsapp_opt_out(ctx, db) -> None:
    handle(ctx, twilio_request("/twilio/inbound", {"From": "whatsapp:" + PHONE, "Body": "STOP"}))
    assert opt_outs(db) == [("whatsapp", PHONE, "inbound_stop")]


# -- /chat/presence --------------------------------------------------------------------------
def presence(chat_id: str, online: bool, at, *, secret: str = SECRET) -> Request:
    body = json.dumps({"chat_id": chat_id, "online": online}).encode()
    ts = int(at.timestamp())
    return Request("POST", "/chat/presence", headers={
        signing.TIMESTAMP_HEADER: str(ts), signing.SIGNATURE_HEADER: signing.sign(secret.encode(), ts, body)},
        body=body)


def presence_rows(db) -> dict[str, tuple[bool, object]]:
    with Session(db.engine) as s:
        return {p.chat_id: (p.online, p.updated_at) for p in s.exec(sqlmodel_select(ChatPresence))}


def test_presence_upsert_forward_only(ctx, db, clock) -> None:
    t1 = clock.now()
    assert handle(ctx, presence("c1", True, t1)).json() == {"status": "applied", "online": True}
    clock.advance(seconds=30)
    t2 = clock.now()
    assert handle(ctx, presence("c1", False, t2)).json()["status"] == "applied"
    assert presence_rows(db) == {"c1": (False, t2)}
    # the earlier "online" arriving again (replay, or out of order) changes nothing
    assert handle(ctx, presence("c1", True, t1)).json() == {"status": "stale", "online": False}
    assert presence_rows(db) == {"c1": (False, t2)}
    assert presence_rows(db)["c1"][1].tzinfo is not None


@pytest.mark.parametrize("case", ["wrong_secret", "stale", "future", "missing", "tampered"])
def test_presence_bad_or_stale_hmac_is_401(ctx, db, clock, case) -> None:
    now = clock.now()
    request = {
        "wrong_secret": lambda: presence("c1", True, now, secret="other"),
        "stale": lambda: presence("c1", True, now - timedelta(minutes=6)),
        "future": lambda: presence("c1", True, now + timedelta(minutes=6)),
        "missing": lambda: Request("POST", "/chat/presence", body=b'{"chat_id":"c1","online":true}'),
        "tampered": lambda: (lambda r: Request("POST", r.path, headers=r.headers,
                                               body=r.body.replace(b"true", b"false")))(presence("c1", True, now)),
    }[case]()
    r = handle(ctx, request)
    assert r.status == 401 and "error" in r.json()
    assert presence_rows(db) == {}


def test_presence_bad_json_is_400(ctx, db, clock) -> None:
    ts = int(clock.now().timestamp())
    for body in (b"not json", b'{"chat_id": "", "online": true}', b'{"chat_id": "c1", "online": "yes"}', b"[]"):
        r = handle(ctx, Request("POST", "/chat/presence", headers={
            signing.TIMESTAMP_HEADER: str(ts), signing.SIGNATURE_HEADER: signing.sign(SECRET.encode(), ts, body)},
            body=body))
        assert r.status == 400, body
    assert presence_rows(db) == {}


def test_presence_without_a_configured_secret_is_refused(db, clock) -> None:
    ctx = ServeContext(make_settings(), db, clock)
    assert handle(ctx, presence("c1", True, clock.now(), secret="")).status == 401


# -- /healthz, /metrics, routing -------------------------------------------------------------
def test_healthz_ok(ctx) -> None:
    r = handle(ctx, Request("GET", "/healthz"))
    assert r.status == 200 and r.json() == {"status": "ok", "database": "ok"}


def test_healthz_503_when_the_database_is_gone(tmp_path, clock) -> None:
    from watcher.store.db import Database

    missing = Database(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'x.db'}")
    r = handle(ServeContext(make_settings(), missing, clock), Request("GET", "/healthz"))
    assert r.status == 503 and r.json() == {"status": "error", "database": "error"}


def test_metrics(ctx, db) -> None:
    add_notice(db)
    handle(ctx, twilio_request("/twilio/inbound", {"From": PHONE, "Body": "退订"}))
    r = handle(ctx, Request("GET", "/metrics"))
    assert r.status == 200 and r.content_type.startswith("text/plain; version=0.0.4")
    lines = r.body.decode().splitlines()
    assert 'parcelwatch_parcels{status="in_transit"} 1' in lines
    assert 'parcelwatch_parcels{status="delivered"} 0' in lines
    assert 'parcelwatch_flagged{flag="stalled"} 1' in lines
    assert 'parcelwatch_flagged{flag="unreachable"} 0' in lines
    assert 'parcelwatch_notices{state="sent"} 1' in lines
    assert 'parcelwatch_notices{state="failed"} 0' in lines
    assert "parcelwatch_opt_outs 1" in lines
    assert "# TYPE parcelwatch_parcels gauge" in lines


def test_routing_errors(ctx) -> None:
    assert handle(ctx, Request("GET", "/nope")).status == 404
    r = handle(ctx, Request("GET", "/twilio/status"))
    assert r.status == 405 and r.headers["Allow"] == "POST"
    assert handle(ctx, Request("POST", "/chat/presence", body=b"x" * 70000)).status == 413
