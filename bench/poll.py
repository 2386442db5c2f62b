"""Benchmark: parcels per second through the whole poll path vs a bare httpx loop.

Both sides make the same requests to the same local Kuaidi100-compatible fake
(a separate process on 127.0.0.1), in the same run, alternating rounds:

* reference — a sequential ``httpx.Client`` loop: sign, POST, decode JSON. Nothing else.
* ours      — ``Poller.run_cycle(all_parcels=True)`` over a fresh SQLite store:
              claim + lease, fetch, parse, judge, store checkpoints, update parcels.
* command   — the same through ``parcelwatch --config C poll --all`` as a process
              (includes interpreter start-up and imports).

Prints the medians and the ratios ours/reference and command/reference.
``BENCH_CONCURRENCY`` (default 4) sets ``tracking.concurrency``: the fake is one
Python process, and more than about four requests in flight only make its
threads fight over its interpreter lock.
Usage: .venv/bin/python bench/poll.py [--parcels 3000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fakes.kuaidi100 import DEFAULT_CUSTOMER, DEFAULT_KEY, trace_reply  # noqa: E402
from watcher.settings import load_settings  # noqa: E402
from watcher.store.db import open_database  # noqa: E402
from watcher.store.models import Parcel  # noqa: E402

CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "4"))
CITIES = ["杭州市", "上海市", "广州市", "深圳市", "成都市", "武汉市", "西安市", "郑州市"]


def make_replies(n: int) -> dict[str, dict]:
    """Realistic traces of 6–10 checkpoints, newest first."""
    replies = {}
    base = datetime(2026, 11, 18, 9, 0)
    for i in range(n):
        number = f"7531{i:010d}"
        steps = 6 + i % 5
        data = []
        for k in range(steps):
            when = base + timedelta(hours=7 * k + i % 13)
            city = CITIES[(i + k) % len(CITIES)]
            text = f"【{city}】快件已到达【{city[:-1]}转运中心】，准备发往下一站" if k else f"【{city}】{city[:-1]}公司 已揽收"
            data.append({"time": when.strftime("%Y-%m-%d %H:%M:%S"), "ftime": when.strftime("%Y-%m-%d %H:%M:%S"),
                         "context": text, "location": city, "areaName": city,
                         "status": "在途" if k else "揽收", "statusCode": "0" if k else "1"})
        data.reverse()
        replies[number] = trace_reply(number, "zhongtong", "0", data)
    return replies


def start_fake(data_file: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.kuaidi100", "--data", str(data_file)],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )
    line = proc.stdout.readline() if proc.stdout else ""
    if not line.startswith("PORT "):
        proc.kill()
        raise SystemExit(f"fake server did not start: {line!r}")
    return proc, f"http://127.0.0.1:{line.split()[1]}"


def reference(base_url: str, numbers: list[str]) -> float:
    start = time.perf_counter()
    with httpx.Client(base_url=base_url, timeout=10) as client:
        for number in numbers:
            param = json.dumps({"com": "zhongtong", "num": number, "phone": "5678", "resultv2": "4",
                                "show": "0", "order": "desc"}, ensure_ascii=False, separators=(",", ":"))
            sign = hashlib.md5((param + DEFAULT_KEY + DEFAULT_CUSTOMER).encode()).hexdigest().upper()
            response = client.post("/poll/query.do", data={"customer": DEFAULT_CUSTOMER, "sign": sign, "param": param})
            body = response.json()
            assert body.get("status") == "200", body
    return len(numbers) / (time.perf_counter() - start)


def write_config(work: Path, base_url: str, tag: str) -> Path:
    config = work / f"bench-{tag}.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{work / f"bench-{tag}.db"}"\n'
        f'[tracking]\nprovider = "kuaidi100"\nconcurrency = {CONCURRENCY}\n'
        f'[providers.kuaidi100]\ncustomer = "{DEFAULT_CUSTOMER}"\nkey = "{DEFAULT_KEY}"\n'
        f'base_url = "{base_url}"\nrate_limit = 0\n',
        encoding="utf-8",
    )
    return config


def seed(config: Path, numbers: list[str]) -> None:
    settings = load_settings(config, environ={})
    db = open_database(settings.database.url)
    now = datetime.now(timezone.utc)
    rows = [dict(courier="zhongtong", tracking_number=n, buyer_phone="+8613912345678", created_at=now,
                 updated_at=now, next_poll_at=now, status="pending", flags="", poll_failures=0) for n in numbers]
    with db.engine.begin() as conn:
        conn.execute(Parcel.__table__.insert(), rows)
    db.dispose()


def ours(config: Path, numbers: list[str]) -> float:
    from watcher.poller import Poller

    settings = load_settings(config, environ={})
    db = open_database(settings.database.url)
    poller = Poller(db, settings)

    async def go():
        try:
            return await poller.run_cycle(all_parcels=True)
        finally:
            await poller.aclose()

    start = time.perf_counter()
    summary = asyncio.run(go())
    elapsed = time.perf_counter() - start
    assert summary.total("answered") == len(numbers), summary.as_dict()
    db.dispose()
    return len(numbers) / elapsed


def command(config: Path, numbers: list[str]) -> float:
    exe = Path(sys.executable).with_name("parcelwatch")
    start = time.perf_counter()
    subprocess.run([str(exe), "--config", str(config), "poll", "--all", "--json"], check=True,
                   stdout=subprocess.DEVNULL, env={**os.environ, "PARCELWATCH_CONFIG": ""})
    return len(numbers) / (time.perf_counter() - start)


def main() -> int:
    from watcher.logs import configure_logging

    configure_logging("warning")  # as the CLI does by default
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    replies = make_replies(args.parcels)
    numbers = list(replies)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data_file = work / "replies.json"
        data_file.write_text(json.dumps(replies, ensure_ascii=False), encoding="utf-8")
        proc, base_url = start_fake(data_file)
        try:
            ref_rates, our_rates, cmd_rates = [], [], []
            reference(base_url, numbers[:200])  # warm the fake up
            for r in range(args.rounds):
                ref_rates.append(reference(base_url, numbers))
                cfg = write_config(work, base_url, f"ours{r}")
                seed(cfg, numbers)
                our_rates.append(ours(cfg, numbers))
                cfg = write_config(work, base_url, f"cmd{r}")
                seed(cfg, numbers)
                cmd_rates.append(command(cfg, numbers))
                print(f"round {r + 1}: reference {ref_rates[-1]:7.0f}/s  ours {our_rates[-1]:7.0f}/s  "
                      f"command {cmd_rates[-1]:7.0f}/s", flush=True)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    ref, our, cmd = (statistics.median(x) for x in (ref_rates, our_rates, cmd_rates))
    print(f"\n{args.parcels} parcels, {args.rounds} rounds, tracking.concurrency={CONCURRENCY}, medians:")
    print(f"  reference (sequential httpx loop) {ref:8.0f} parcels/s")
    print(f"  ours (Poller.run_cycle --all)      {our:8.0f} parcels/s   ratio {our / ref:.2f}")
    print(f"  command (parcelwatch poll --all)   {cmd:8.0f} parcels/s   ratio {cmd / ref:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
