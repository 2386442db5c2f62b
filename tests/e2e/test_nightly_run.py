"""`parcelwatch run` and the nightly report, black-box: the daemon starts after `report.at`,
finds that today's report was never written, writes the dated files and sends the summary
through the real apprise library to a local stand-in for the ops chat; the webhook's
password never reaches the log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.e2e.test_kuaidi100_cli import cli, item
from tests.e2e.test_notices_cli import ago
from tests.fakes import kuaidi100 as k100
from tests.fakes.ops_webhook import OpsWebhookFake, apprise_url
from tests.fakes.ops_webhook import serve_in_thread as serve_ops

SECRET = "hook-pa55-0451"


def test_run_writes_and_sends_the_missed_nightly_report(tmp_path: Path) -> None:
    stalled = k100.trace_reply("75300000000001", "zhongtong", "0", [
        item(ago(100), "快件离开【杭州转运中心】已发往【深圳转运中心】", "0"),
        item(ago(110), "【杭州市】浙江杭州公司 已揽收，派件员电话13812345678", "103"),
    ])
    chat = OpsWebhookFake()
    with k100.serve_in_thread(k100.Kuaidi100Fake({"75300000000001": stalled})) as k_url, serve_ops(chat) as o_url:
        config = tmp_path / "parcelwatch.toml"
        config.write_text(
            f'[shop]\nname = "小鲸鱼旗舰店"\n[database]\nurl = "sqlite:///{tmp_path / "pw.db"}"\n'
            f'[providers.kuaidi100]\ncustomer = "{k100.DEFAULT_CUSTOMER}"\nkey = "{k100.DEFAULT_KEY}"\n'
            f'base_url = "{k_url}"\nrate_limit = 0\n'
            f'[report]\nat = "00:00"\nnotify = ["{apprise_url(o_url, "/ops", userinfo="ops:" + SECRET)}"]\n',
            encoding="utf-8",
        )
        csv = tmp_path / "parcels.csv"
        csv.write_text("carrier,tracking_number,buyer_phone,city\n中通,75300000000001,13912345678,深圳市\n",
                       encoding="utf-8")
        cli(config, "import", str(csv))
        cli(config, "poll")
        log = tmp_path / "run.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PARCELWATCH_")}
        with log.open("w") as err:
            proc = subprocess.Popen([sys.executable, "-m", "watcher", "--config", str(config), "run"],
                                    stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=tmp_path)
            try:
                with chat.changed:
                    assert chat.changed.wait_for(lambda: chat.messages, timeout=60), "no report reached the chat"
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=60)
    assert proc.returncode == 0
    (message,) = chat.messages
    assert message["title"].startswith("小鲸鱼旗舰店 stall report ")
    assert "flagged parcels 1: new 1" in message["message"] and "75300000000001 zhongtong stalled" in message["message"]
    assert chat.requests[0]["headers"]["authorization"].startswith("Basic ")  # the password did travel
    names = sorted(a["filename"] for a in message["attachments"])
    assert [n.rsplit(".", 1)[1] for n in names] == ["csv", "html"]
    written = sorted(p.name for p in (tmp_path / "reports").iterdir())
    assert len(written) == 4 and set(names) <= set(written)
    logged = log.read_text(encoding="utf-8")
    assert '"report.written"' in logged and '"ops.sent"' in logged
    assert SECRET not in logged and "13912345678" not in logged
