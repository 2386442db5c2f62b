"""The command-line contract: verbs, --json shapes, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from watcher.cli.main import main

COURIERS = ["中通", "圆通", "申通", "韵达", "顺丰", "极兔", "EMS", "ZTO", "yunda", "京东"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "pw.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "cli.db"}"\n'
        '[tracking]\nprovider = "simulated"\n[providers.simulated]\nseed = 3\n',
        encoding="utf-8",
    )
    return path


def write_csv(path: Path, rows: list[str], header: str = "carrier,tracking_number,buyer_phone,city,shipped_at") -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def good_rows(n: int) -> list[str]:
    return [f"{COURIERS[i % len(COURIERS)]},SIM-NORMAL-{i:06d},138{i:08d},杭州市,2026-11-20 18:30" for i in range(n)]


BAD_ROWS = [
    ("顺风快递,BAD0000001,13800000001,杭州市,2026-11-20 18:30", "carrier"),
    ("中通,BAD0000002,1380000,杭州市,2026-11-20 18:30", "buyer_phone"),
    ("中通,BAD0000003,13800000003,杭州市,yesterday", "shipped_at"),
    ("中通,,13800000004,杭州市,2026-11-20 18:30", "tracking_number"),
    ("中通,7.53E+13,13800000005,杭州市,2026-11-20 18:30", "tracking_number"),
    ("中通,BAD0000006,13800000006,杭州市,2031-01-01 00:00", "shipped_at"),
    ("中通,BAD#0000007,13800000007,杭州市,2026-11-20 18:30", "tracking_number"),
    ("UPS-Ground,BAD0000008,13800000008,杭州市,2026-11-20 18:30", "carrier"),
    ("中通,BAD0000009,+99912345,杭州市,2026-11-20 18:30", "buyer_phone"),
    ("圆通,SIM-NORMAL-000001,13900000000,杭州市,2026-11-20 18:30", "tracking_number"),  # conflicting duplicate
]


def test_import_1000_good_10_bad(capsys, config: Path, tmp_path: Path) -> None:
    rows = good_rows(1000)
    for i, (row, _) in enumerate(BAD_ROWS):
        rows.insert(100 * i + 50, row)
    csv = write_csv(tmp_path / "orders.csv", rows)
    code, out, err = run(capsys, "--config", str(config), "import", str(csv))
    assert code == 1
    errors = [line for line in err.splitlines() if line.startswith("orders.csv:line ")]
    assert len(errors) == 10, err
    for line, (_, column) in zip(errors, BAD_ROWS):
        assert f": {column}: " in line, line
    lines = [int(e.split("line ")[1].split(":")[0]) for e in errors]
    assert lines == sorted(lines) and lines[0] == 52  # header is line 1, first bad row inserted at index 50
    assert "1000 added" in out and "10 rejected" in out
    assert "1380000," not in err and "+99912345" not in err  # phones are masked in error lines
    # Importing it again adds nothing.
    code, out, _ = run(capsys, "--config", str(config), "import", str(csv))
    assert code == 1 and "0 added, 0 updated, 1000 unchanged" in out
    code, out, _ = run(capsys, "--config", str(config), "list", "--json")
    assert len(json.loads(out)) == 1000


def test_import_json_and_missing_file(capsys, config: Path, tmp_path: Path) -> None:
    csv = write_csv(tmp_path / "a.csv", good_rows(3) + [BAD_ROWS[0][0]])
    code, out, _ = run(capsys, "--config", str(config), "import", str(csv), "--json")
    data = json.loads(out)
    assert code == 1 and data["added"] == 3 and data["errors"][0]["line"] == 5 and data["errors"][0]["column"] == "carrier"
    code, _, err = run(capsys, "--config", str(config), "import", str(tmp_path / "nope.csv"))
    assert code == 2 and err.count("\n") == 1 and "nope.csv" in err


def test_missing_required_column_refuses_the_file(capsys, config: Path, tmp_path: Path) -> None:
    csv = write_csv(tmp_path / "b.csv", ["中通,13800000000"], header="carrier,buyer_phone")
    code, _, err = run(capsys, "--config", str(config), "import", str(csv))
    assert code == 2 and "tracking_number" in err and err.count("\n") == 1


def test_add_poll_list_show(capsys, config: Path) -> None:
    code, out, _ = run(capsys, "--config", str(config), "add", "--carrier", "顺丰", "--tracking-number", "SIM-NORMAL-SF1",
                       "--buyer_phone", "13912345678", "--city", "上海市", "--shipped-at", "2026-11-20 08:00", "--json")
    assert code == 0 and json.loads(out) == {"tracking_number": "SIM-NORMAL-SF1", "carrier": "shunfeng", "result": "added"}
    code, out, _ = run(capsys, "--config", str(config), "add", "--carrier", "SF", "--tracking-number", "SIM-NORMAL-SF1")
    assert code == 0 and out.startswith("unchanged")
    code, out, _ = run(capsys, "--config", str(config), "poll", "--all", "--json")
    assert code == 0 and json.loads(out)["answered"] == 1
    code, out, _ = run(capsys, "--config", str(config), "list", "--json")
    [parcel] = json.loads(out)
    assert {"tracking_number", "carrier", "status", "flags"} <= parcel.keys()
    assert parcel["carrier"] == "shunfeng" and parcel["status"] != "pending" and parcel["flags"] == []
    code, out, _ = run(capsys, "--config", str(config), "show", "SIM-NORMAL-SF1", "--json")
    detail = json.loads(out)
    assert code == 0 and detail["buyer_phone"] == "+86139****5678" and detail["checkpoints"]
    times = [c["time"] for c in detail["checkpoints"]]
    assert times == sorted(times, reverse=True)
    code, out, _ = run(capsys, "--config", str(config), "show", "SIM-NORMAL-SF1")
    assert code == 0 and "checkpoints" in out and "13912345678" not in out
    code, out, _ = run(capsys, "--config", str(config), "list")
    assert code == 0 and "SIM-NORMAL-SF1" in out and "1 parcels" in out
    code, out, _ = run(capsys, "--config", str(config), "list", "--status", "pending", "--json")
    assert json.loads(out) == []


def test_add_rejects_bad_values_with_one_line(capsys, config: Path) -> None:
    code, _, err = run(capsys, "--config", str(config), "add", "--carrier", "nope", "--tracking-number", "X1234567")
    assert code == 2 and "unknown courier" in err and err.count("\n") == 1
    code, _, err = run(capsys, "--config", str(config), "add", "--carrier", "中通")
    assert code == 2 and "tracking-number" in err and err.count("\n") == 1


def test_show_unknown_number(capsys, config: Path) -> None:
    code, _, err = run(capsys, "--config", str(config), "show", "NOPE123")
    assert code == 2 and "NOPE123" in err


@pytest.mark.parametrize(
    "argv",
    [["frobnicate"], ["list", "--limit", "many"], ["list", "--flag", "sad"], ["poll", "--everything"], []],
)
def test_usage_errors_exit_2_with_one_line(capsys, argv: list[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err


def test_config_errors_exit_2(capsys, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[tracking]\nconcurency = 3\n", encoding="utf-8")
    code, _, err = run(capsys, "--config", str(bad), "list")
    assert code == 2 and "tracking.concurency: unknown key" in err and err.count("\n") == 1
    code, _, err = run(capsys, "--config", str(tmp_path / "missing.toml"), "list")
    assert code == 2 and "not found" in err


def test_poll_without_kuaidi100_credentials_names_the_key(capsys, tmp_path: Path) -> None:
    cfg = tmp_path / "k.toml"
    cfg.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "k.db"}"\n', encoding="utf-8")
    assert run(capsys, "--config", str(cfg), "add", "--carrier", "中通", "--tracking-number", "75312345678901")[0] == 0
    code, _, err = run(capsys, "--config", str(cfg), "poll")
    assert code == 2 and "providers.kuaidi100.customer" in err and err.count("\n") == 1
    code, _, err = run(capsys, "--config", str(cfg), "list", "--json")
    assert code == 0  # nothing left leased or half-written


def test_unknown_provider_is_a_config_error(capsys, tmp_path: Path) -> None:
    cfg = tmp_path / "p.toml"
    cfg.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "p.db"}"\n[tracking]\nprovider = "nope"\n', encoding="utf-8")
    run(capsys, "--config", str(cfg), "add", "--carrier", "中通", "--tracking-number", "75312345678901")
    code, _, err = run(capsys, "--config", str(cfg), "poll")
    assert code == 2 and "no carrier adapter named 'nope'" in err


def test_carriers_lists_builtins_through_entry_points(capsys, config: Path) -> None:
    code, out, _ = run(capsys, "--config", str(config), "carriers", "--json")
    data = json.loads(out)
    names = {a["name"]: a for a in data["adapters"]}
    assert code == 0 and {"simulated", "kuaidi100"} <= names.keys()
    assert names["simulated"]["default"] is True and "zhongtong" in names["simulated"]["routed_couriers"]
    assert names["kuaidi100"]["min_interval_minutes"] == 30
    code, out, _ = run(capsys, "--config", str(config), "carriers")
    assert code == 0 and "kuaidi100" in out


def test_db_upgrade(capsys, config: Path) -> None:
    code, out, _ = run(capsys, "--config", str(config), "db", "upgrade")
    from watcher.store.db import SCHEMA_HEAD

    assert code == 0 and f"empty -> {SCHEMA_HEAD}" in out
    code, out, _ = run(capsys, "--config", str(config), "db", "upgrade")
    assert code == 0 and "up to date" in out


def test_demo_runs_on_the_simulated_carrier(capsys, tmp_path: Path) -> None:
    code, out, _ = run(capsys, "demo", "--db", str(tmp_path / "demo.db"), "--days", "7", "--json")
    data = json.loads(out)
    statuses = {p["status"] for p in data["parcels"]}
    assert code == 0 and len(data["parcels"]) >= 40
    assert {"delivered", "in_transit", "available_for_pickup", "exception", "returned"} <= statuses
    # the demo ends with the stall report ops would read: every flagged parcel listed once per flag
    flagged = {(p["tracking_number"], f) for p in data["parcels"] for f in p["flags"]}
    report = data["report"]
    assert {(e["tracking_number"], e["flag"]) for e in report["flagged"]} == flagged
    assert len(report["flagged"]) == len(flagged) and report["scorecard"]["couriers"]
    assert sorted(p.name for p in (tmp_path / "reports-demo").iterdir())[0].startswith("stall-report-")
