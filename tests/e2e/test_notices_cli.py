"""Buyer notices end to end: the real CLI, a Kuaidi100-compatible server and a
Twilio-compatible server on 127.0.0.1 — every expected SMS once, nothing forbidden,
and polling again sends nothing new."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.test_kuaidi100_cli import cli, item
from tests.fakes import kuaidi100 as k100
from tests.fakes import twilio as tw

SH = ZoneInfo("Asia/Shanghai")


def ago(hours: float) -> str:
    return (datetime.now(timezone.utc) - timedelta(hours=hours)).astimezone(SH).strftime("%Y-%m-%d %H:%M:%S")


def trace(number: str, com: str, state: str, *items: dict[str, str]) -> dict:
    return k100.trace_reply(number, com, state, list(items))


CASES = {
    # number: (courier, city, reply, expected notice kinds)
    "75300000000101": ("中通", "深圳市", trace("75300000000101", "zhongtong", "0",
                        item(ago(5), "快件离开【杭州转运中心】已发往【深圳转运中心】", "0"),
                        item(ago(9), "【杭州市】浙江杭州公司 已揽收", "103")), {"dispatch"}),
    "75300000000102": ("中通", "深圳市", trace("75300000000102", "zhongtong", "1001",
                        item(ago(3), "【深圳市】快件已到达 深圳宝安公司", "1001"),
                        item(ago(30), "【杭州市】浙江杭州公司 已揽收", "103")), {"arrived_city"}),
    "SF1400000000103": ("顺丰", "上海市", trace("SF1400000000103", "shunfeng", "3",
                        item(ago(2), "快件已签收，签收人：本人", "301"),
                        item(ago(20), "顺丰速运 已收取快件", "103")), set()),
    "YT7000000000104": ("圆通", "成都市", trace("YT7000000000104", "yuantong", "0",
                        item(ago(70), "快件已到达【武汉转运中心】", "0"),
                        item(ago(80), "【杭州市】杭州公司 已收件", "103")), {"dispatch", "delay"}),
    "43100000000105": ("韵达", "喀什地区", trace("43100000000105", "yunda", "207",
                        item(ago(4), "【喀什地区】该地址超出派送范围，无法派送", "207"),
                        item(ago(60), "【杭州市】杭州公司 已揽收", "103")), {"unreachable"}),
}


@pytest.fixture
def world(tmp_path: Path):
    replies = {n: reply for n, (_, _, reply, _) in CASES.items()}
    sms = tw.TwilioFake()
    with k100.serve_in_thread(k100.Kuaidi100Fake(replies)) as k_url, tw.serve_in_thread(sms) as t_url:
        config = tmp_path / "parcelwatch.toml"
        config.write_text(
            f'[shop]\nname = "小鲸鱼旗舰店"\nsms_signature = "小鲸鱼"\n'
            f'[database]\nurl = "sqlite:///{tmp_path / "pw.db"}"\n'
            f'[providers.kuaidi100]\ncustomer = "{k100.DEFAULT_CUSTOMER}"\nkey = "{k100.DEFAULT_KEY}"\n'
            f'base_url = "{k_url}"\nrate_limit = 0\n'
            f'[twilio]\naccount_sid = "{tw.DEFAULT_ACCOUNT_SID}"\nauth_token = "{tw.DEFAULT_AUTH_TOKEN}"\n'
            f'from_number = "+15005550006"\nbase_url = "{t_url}"\n'
            '[notices]\nquiet_hours = ""\nchannels = ["sms"]\n',
            encoding="utf-8",
        )
        lines = ["carrier,tracking_number,buyer_phone,city,shipped_at"]
        for i, (number, (courier, city, _, _)) in enumerate(CASES.items()):
            lines.append(f"{courier},{number},1391234{i:04d},{city},{ago(90)[:16]}")
        csv = tmp_path / "parcels.csv"
        csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
        yield config, csv, sms


def test_every_expected_notice_once_and_nothing_more(world) -> None:
    config, csv, sms = world
    cli(config, "import", str(csv))
    poll = json.loads(cli(config, "poll", "--all", "--json").stdout)
    assert poll["notices"]["sent"] == sum(len(kinds) for *_, kinds in CASES.values())
    rows = json.loads(cli(config, "notices", "--json").stdout)
    got = {}
    for row in rows:
        got.setdefault(row["tracking_number"], set()).add(row["kind"])
        assert row["state"] == "sent" and row["channel"] == "sms" and row["sent_at"]
    assert got == {n: kinds for n, (*_, kinds) in CASES.items() if kinds}
    assert len(sms.messages) == len(rows)
    assert all(m["body"].startswith("【小鲸鱼】") for m in sms.messages)
    sent_to = sorted(m["to"] for m in sms.messages)
    assert len(set(zip(sent_to, [m["body"] for m in sms.messages]))) == len(sms.messages)  # no duplicates

    for _ in range(3):  # polling again (even --all) sends nothing new
        cli(config, "poll", "--all")
    assert len(sms.messages) == len(rows)
    assert len(json.loads(cli(config, "notices", "--json").stdout)) == len(rows)
