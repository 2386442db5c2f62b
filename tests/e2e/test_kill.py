"""Crash safety: `parcelwatch run` is SIGKILLed mid-dispatch several times, then restarted.
Afterwards every notice was sent exactly once: the Twilio-compatible server's messages
and the outbox agree, no duplicates, no losses.

Kills land while a send is in flight: the fake accepts (stores) the message and then
never answers — the worst case, since Twilio has no idempotency key.  The restarted
daemon must find that message with the provider before it retries anything."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.e2e.test_kuaidi100_cli import cli, item
from tests.e2e.test_notices_cli import ago
from tests.fakes import kuaidi100 as k100
from tests.fakes import twilio as tw

PARCELS = 30
KILLS = 3


def start(config: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARCELWATCH_")}
    return subprocess.Popen([sys.executable, "-m", "watcher", "--config", str(config), "run"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True, env=env,
                            cwd=config.parent)


def wait_for(fake: tw.TwilioFake, predicate, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    with fake.changed:
        assert fake.changed.wait_for(predicate, timeout=timeout), "the daemon made no progress"


def test_sigkill_mid_dispatch_neither_loses_nor_duplicates(tmp_path: Path) -> None:
    numbers = [f"7530000000{i:04d}" for i in range(PARCELS)]
    replies = {
        n: k100.trace_reply(n, "zhongtong", "0", [
            item(ago(4), "快件离开【杭州转运中心】已发往【深圳转运中心】", "0"),
            item(ago(8), "【杭州市】浙江杭州公司 已揽收", "103"),
        ])
        for n in numbers
    }
    sms = tw.TwilioFake()
    with k100.serve_in_thread(k100.Kuaidi100Fake(replies)) as k_url, tw.serve_in_thread(sms) as t_url:
        config = tmp_path / "parcelwatch.toml"
        config.write_text(
            f'[shop]\nname = "小鲸鱼旗舰店"\n[database]\nurl = "sqlite:///{tmp_path / "pw.db"}"\n'
            '[tracking]\ncycle_seconds = 1\n'
            f'[providers.kuaidi100]\ncustomer = "{k100.DEFAULT_CUSTOMER}"\nkey = "{k100.DEFAULT_KEY}"\n'
            f'base_url = "{k_url}"\nrate_limit = 0\n'
            f'[twilio]\naccount_sid = "{tw.DEFAULT_ACCOUNT_SID}"\nauth_token = "{tw.DEFAULT_AUTH_TOKEN}"\n'
            f'from_number = "+15005550006"\nbase_url = "{t_url}"\ntimeout_seconds = 60\n'
            '[notices]\nquiet_hours = ""\nchannels = ["sms"]\ndispatch_seconds = 1\nreconcile_after_seconds = 1\n'
            'daily_cap = 10\n',
            encoding="utf-8",
        )
        csv = tmp_path / "parcels.csv"
        csv.write_text("carrier,tracking_number,buyer_phone\n" + "".join(
            f"中通,{n},139{i:08d}\n" for i, n in enumerate(numbers)), encoding="utf-8")
        cli(config, "import", str(csv))

        for kill in range(KILLS):
            # The next send is accepted by the "provider" but never answered: kill the daemon right there.
            already = sms.hanging
            sms.hang_next(1)
            proc = start(config)
            try:
                wait_for(sms, lambda: sms.hanging > already)
            finally:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
            assert proc.returncode == -signal.SIGKILL

        proc = start(config)  # the last run finishes the outbox
        try:
            wait_for(sms, lambda: len(sms.messages) >= PARCELS)
            # Let the outbox settle: every row sent (reconciled or dispatched).
            for _ in range(600):
                rows = json.loads(cli(config, "notices", "--json").stdout)
                if rows and all(r["state"] == "sent" for r in rows):
                    break
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
        assert proc.returncode == 0

    rows = json.loads(cli(config, "notices", "--json").stdout)
    assert len(rows) == PARCELS and {r["kind"] for r in rows} == {"dispatch"}
    assert all(r["state"] == "sent" for r in rows), Counter(r["state"] for r in rows)
    per_buyer = Counter(m["to"] for m in sms.messages)
    assert len(sms.messages) == PARCELS and set(per_buyer.values()) == {1}, per_buyer.most_common(3)
    assert {r["provider_message_id"] for r in rows} == {m["sid"] for m in sms.messages}
    assert sms.hanging == KILLS
