"""End to end, as a user runs it: the ``parcelwatch`` command in subprocesses against a
local Kuaidi100-compatible server set through ``providers.kuaidi100.base_url``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.kuaidi100 import DEFAULT_CUSTOMER, DEFAULT_KEY, Kuaidi100Fake, serve_in_thread, trace_reply

REPO = Path(__file__).resolve().parents[2]


def cli(config: Path, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARCELWATCH_")}
    result = subprocess.run([sys.executable, "-m", "watcher", "--config", str(config), *argv],
                            capture_output=True, text=True, env=env, timeout=120, cwd=config.parent)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def item(time: str, context: str, code: str, location: str = "") -> dict[str, str]:
    return {"time": time, "ftime": time, "context": context, "location": location, "status": "", "statusCode": code}


REPLIES = {
    "75300000000001": trace_reply("75300000000001", "zhongtong", "1001", [
        item("2026-11-21 09:12:00", "【深圳市】快件已到达 深圳宝安公司", "1001", "深圳市"),
        item("2026-11-20 22:40:00", "【杭州市】快件离开 杭州中转部 已发往 深圳中转部", "1002", "杭州市"),
        item("2026-11-20 18:05:00", "【杭州市】杭州西湖公司 已揽收", "103", "杭州市"),
    ]),
    "SF1400000000002": trace_reply("SF1400000000002", "shunfeng", "3", [
        item("2026-11-21 15:00:00", "快件已签收，签收人：本人", "301", "上海市"),
        item("2026-11-21 08:00:00", "快件交给张师傅，正在派送途中", "5", "上海市"),
        item("2026-11-20 19:00:00", "顺丰速运 已收取快件", "1", "杭州市"),
    ]),
    "YT7000000000003": trace_reply("YT7000000000003", "yuantong", "501", [
        item("2026-11-22 10:00:00", "快件已送达【菜鸟驿站】，请凭取件码取件", "501", "广州市"),
        item("2026-11-20 20:00:00", "【杭州转运中心】 已收入", "0", "杭州市"),
    ]),
}
# "43100000000004" (韵达) has no reply: Kuaidi100 answers 500 查询无结果 — "no information yet".


@pytest.fixture
def setup(tmp_path: Path):
    fake = Kuaidi100Fake(REPLIES)
    with serve_in_thread(fake) as base_url:
        config = tmp_path / "parcelwatch.toml"
        config.write_text(
            f'[database]\nurl = "sqlite:///{tmp_path / "pw.db"}"\n'
            f'[providers.kuaidi100]\ncustomer = "{DEFAULT_CUSTOMER}"\nkey = "{DEFAULT_KEY}"\nbase_url = "{base_url}"\n',
            encoding="utf-8",
        )
        csv = tmp_path / "parcels.csv"
        csv.write_text(
            "快递公司,运单号,手机号,省,市,区,订单号,发货时间\n"
            "中通,75300000000001,13812345678,广东省,深圳市,宝安区,TB1,2026-11-20 17:00\n"
            "顺丰,SF1400000000002,13912345678,上海市,上海市,浦东新区,TB2,2026-11-20 17:30\n"
            "圆通,YT7000000000003,13712345678,广东省,广州市,天河区,TB3,2026-11-20 18:00\n"
            "韵达,43100000000004,13612345678,浙江省,杭州市,西湖区,TB4,2026-11-20 18:00\n",
            encoding="gbk",
        )
        yield fake, config, csv


def test_import_poll_list_against_a_kuaidi100_compatible_server(setup) -> None:
    fake, config, csv = setup
    out = cli(config, "import", str(csv)).stdout
    assert "4 added" in out
    poll = json.loads(cli(config, "poll", "--all", "--json").stdout)
    assert poll["answered"] == 4 and poll["problems"] == 1 and poll["failed"] == 0
    assert fake.requests == 4
    parcels = {p["tracking_number"]: p for p in json.loads(cli(config, "list", "--json").stdout)}
    assert {n: (p["carrier"], p["status"]) for n, p in parcels.items()} == {
        "75300000000001": ("zhongtong", "arrived_destination_city"),
        "SF1400000000002": ("shunfeng", "delivered"),
        "YT7000000000003": ("yuantong", "available_for_pickup"),
        "43100000000004": ("yunda", "pending"),
    }
    # These traces are days old by now: the parcel in Shenzhen stopped moving, the Yunda one was never
    # collected; delivered and pickup-point parcels are never flagged.
    assert {n: p["flags"] for n, p in parcels.items()} == {
        "75300000000001": ["stalled"],
        "SF1400000000002": [],
        "YT7000000000003": [],
        "43100000000004": ["not_collected"],
    }
    [stall] = parcels["75300000000001"]["flag_details"]
    assert stall["code"] == "city_stall" and stall["threshold_hours"] >= 24 and stall["hours"] > 24
    assert parcels["75300000000001"]["last_checkpoint"]["text"] == "【深圳市】快件已到达 深圳宝安公司"
    assert parcels["75300000000001"]["last_checkpoint"]["time"] == "2026-11-21T01:12:00+00:00"

    # Polling again right away: Kuaidi100 locks waybills queried more than about every 30 minutes,
    # so nothing is asked, even with --all.
    again = json.loads(cli(config, "poll", "--all", "--json").stdout)
    assert again["answered"] == 0 and fake.requests == 4
    # The delivered parcel is never asked about again.
    assert parcels["SF1400000000002"]["next_poll_at"] is None


def test_provider_outage_is_reported_and_changes_nothing(setup) -> None:
    fake, config, csv = setup
    cli(config, "import", str(csv))
    fake.fail_next(100, http_status=503)
    result = cli(config, "poll", "--all", "--json", check=False)
    assert result.returncode == 1
    assert json.loads(result.stdout)["failed"] == 4
    assert "kuaidi100" in result.stderr and "Traceback" not in result.stderr
    parcels = json.loads(cli(config, "list", "--json").stdout)
    assert all(p["status"] == "pending" and p["last_polled_at"] is None for p in parcels)


def test_wrong_key_is_an_auth_failure_not_a_crash(setup, tmp_path: Path) -> None:
    fake, config, csv = setup
    config.write_text(config.read_text(encoding="utf-8").replace(DEFAULT_KEY, "wrong-key"), encoding="utf-8")
    cli(config, "import", str(csv))
    result = cli(config, "poll", "--all", check=False)
    assert result.returncode == 1 and "kuaidi100" in result.stderr
    assert fake.requests == 4  # the requests already in flight, and no retries after the rejection
    assert "wrong-key" not in result.stderr + result.stdout


def test_daemon_polls_then_stops_cleanly_on_sigterm(setup) -> None:
    fake, config, csv = setup
    cli(config, "import", str(csv))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARCELWATCH_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "watcher", "--config", str(config), "--log-level", "info", "run"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=config.parent,
    )
    try:
        events = []
        assert proc.stderr is not None
        for line in proc.stderr:  # JSON log lines (stderr is a pipe, not a terminal)
            event = json.loads(line)
            events.append(event)
            if event["event"] == "poll.cycle":
                break
        assert events[-1]["answered"] == 4
        proc.send_signal(signal.SIGTERM)
        _, rest = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    tail = [json.loads(line) for line in rest.splitlines() if line.startswith("{")]
    stopped = [e for e in tail if e["event"] == "worker.stopped"]
    assert len(stopped) == 1 and stopped[0]["cycles"] == 1
    assert "13812345678" not in rest and DEFAULT_KEY not in rest
    parcels = json.loads(cli(config, "list", "--json").stdout)
    assert len(parcels) == 4
