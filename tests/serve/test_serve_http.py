"""``parcelwatch serve`` over real sockets: in a thread, and as the ``parcelwatch serve`` subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from notifiers.chat_webhook import signing
from tests.support import make_settings
from watcher.serve import ServeContext, run_server, serving
from watcher.store.models import ChatPresence, OptOut

TOKEN = "twilio-test-token"
SECRET = "whsec-test"
PHONE = "+8613912345678"


@pytest.fixture
def base_url(db, clock):
    # no public_url: the URL Twilio signed is rebuilt from the Host header
    ctx = ServeContext(make_settings(twilio={"auth_token": TOKEN}, chat={"secret": SECRET}), db, clock)
    with serving(ctx) as url:
        yield url


def test_healthz_and_metrics_over_http(base_url) -> None:
    r = httpx.get(base_url + "/healthz", timeout=5)
    assert r.status_code == 200 and r.json() == {"status": "ok", "database": "ok"}
    m = httpx.get(base_url + "/metrics", timeout=5)
    assert m.status_code == 200 and m.headers["content-type"].startswith("text/plain")
    assert "parcelwatch_opt_outs 0" in m.text.splitlines()
    assert httpx.get(base_url + "/nope", timeout=5).status_code == 404


def test_inbound_stop_over_http(base_url, db) -> None:
    params = {"From": PHONE, "To": "+15005550006", "Body": " 退订 "}
    url = base_url + "/twilio/inbound"
    bad = httpx.post(url, data=params, headers={"X-Twilio-Signature": "bm9wZQ=="}, timeout=5)
    assert bad.status_code == 403 and len(bad.text.splitlines()) == 1
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    r = httpx.post(url, content=urlencode(params), timeout=5, headers={
        "X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/xml")
    assert r.text.endswith("<Response></Response>")
    with db.engine.connect() as conn:
        T = OptOut.__table__
        assert conn.execute(select(T.c.channel, T.c.address, T.c.source)).all() == [("sms", PHONE, "inbound_stop")]


def test_presence_over_http(base_url, db, clock) -> None:
    body = b'{"chat_id":"wx-42","online":true}'
    ts = int(clock.now().timestamp())
    headers = {signing.TIMESTAMP_HEADER: str(ts), signing.SIGNATURE_HEADER: signing.sign(SECRET.encode(), ts, body)}
    assert httpx.post(base_url + "/chat/presence", content=body, headers=headers, timeout=5).status_code == 200
    bad = dict(headers, **{signing.SIGNATURE_HEADER: "sha256=" + "0" * 64})
    assert httpx.post(base_url + "/chat/presence", content=body, headers=bad, timeout=5).status_code == 401
    with db.engine.connect() as conn:
        T = ChatPresence.__table__
        assert conn.execute(select(T.c.chat_id, T.c.online)).all() == [("wx-42", True)]


def test_run_server_stops_on_its_event(db, clock) -> None:
    ctx = ServeContext(make_settings(serve={"port": 0}), db, clock)
    stop = threading.Event()
    result: list[int] = []
    worker = threading.Thread(target=lambda: result.append(run_server(ctx, stop=stop)))
    worker.start()
    stop.set()
    worker.join(timeout=10)
    assert result == [0]


def test_parcelwatch_serve_subprocess(tmp_path: Path) -> None:
    config = tmp_path / "parcelwatch.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "pw.db"}"\n[serve]\nport = 0\n'
                      f'[twilio]\nauth_token = "{TOKEN}"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARCELWATCH_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "watcher", "--config", str(config), "--log-level", "info", "serve"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
    )
    try:
        port = None
        assert proc.stderr is not None
        for line in proc.stderr:  # blocks until the server says it is up: no sleeps
            if line.startswith("{") and json.loads(line).get("event") == "serve.started":
                port = json.loads(line)["port"]
                break
        assert port, "no serve.started line"
        r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert r.json() == {"status": "ok", "database": "ok"}
        proc.send_signal(signal.SIGTERM)
        rest = proc.stderr.read()
        assert proc.wait(timeout=20) == 0, rest
        events = [json.loads(line)["event"] for line in rest.splitlines() if line.startswith("{")]
        assert "serve.stopped" in events and TOKEN not in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
