"""The Twilio fake's WhatsApp additions, called directly (no HTTP)."""

from __future__ import annotations

import base64
import json

from tests.fakes.twilio import API, TwilioFake

PHONE = "+8613912345678"
CONTENT = "HX" + "1" * 32


def create(fake: TwilioFake, **form: str) -> tuple[int, dict]:
    auth = "Basic " + base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
    status, body, _ = fake.handle("POST", f"{API}/Accounts/{fake.account_sid}/Messages.json", {},
                                  {"To": f"whatsapp:{PHONE}", "From": "whatsapp:+14155238886", **form}, auth)
    return status, json.loads(body)


def test_free_text_needs_an_open_window() -> None:
    fake = TwilioFake()
    assert create(fake, Body="hi")[1]["code"] == 63016
    fake.open_window(f"whatsapp:{PHONE}")
    status, reply = create(fake, Body="hi")
    assert status == 201 and reply["to"] == f"whatsapp:{PHONE}" and reply["num_segments"] == "1"
    fake.close_window(PHONE)
    assert create(fake, Body="hi")[1]["code"] == 63016


def test_templates_render_and_are_checked() -> None:
    fake = TwilioFake()
    assert create(fake, ContentSid=CONTENT)[1]["code"] == 21655
    fake.add_content(CONTENT, "Parcel {{1}} is late")
    status, reply = create(fake, ContentSid=CONTENT, ContentVariables='{"1": "ZT1"}')
    assert status == 201 and reply["body"] == "Parcel ZT1 is late"
    assert create(fake, ContentSid=CONTENT, ContentVariables="[1]")[1]["code"] == 21656


def test_whatsapp_needs_a_whatsapp_sender_and_sms_is_unchanged() -> None:
    fake = TwilioFake()
    fake.open_window(PHONE)
    auth = "Basic " + base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
    path = f"{API}/Accounts/{fake.account_sid}/Messages.json"
    status, body, _ = fake.handle("POST", path, {}, {"To": f"whatsapp:{PHONE}", "From": "+1415", "Body": "x"}, auth)
    assert json.loads(body)["code"] == 63007
    status, body, _ = fake.handle("POST", path, {}, {"To": PHONE, "From": "+14155238886", "Body": "x"}, auth)
    assert status == 201 and json.loads(body)["to"] == PHONE
