"""Text, CSV and JSON renderings, masking in every format, and the `report`/`ack` verbs."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest

from tests.report.helpers import NOW, add_parcel, add_sample, flag
from tests.support import make_settings
from watcher.cli.main import main
from watcher.report import generate, render
from watcher.store.db import Database, open_database

SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "report-schema.json").read_text(encoding="utf-8"))
SETTINGS = make_settings(shop={"name": "小鲸鱼旗舰店"})
_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "object": dict, "array": list,
          "null": type(None)}


def check(value: object, schema: dict, path: str = "$") -> None:
    """Structural check by hand: $ref, type, required, properties, items, enum, const."""
    if "$ref" in schema:
        schema = SCHEMA["$defs"][schema["$ref"].rsplit("/", 1)[1]]
    for part in schema.get("allOf", []):
        check(value, part, path)
    if "const" in schema:
        assert value == schema["const"], path
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        ok = any(isinstance(value, _TYPES[t]) and not (t in ("integer", "number") and isinstance(value, bool))
                 for t in types)
        assert ok, f"{path}: {value!r} is not {types}"
    if "enum" in schema:
        assert value in schema["enum"], f"{path}: {value!r}"
    if isinstance(value, dict):
        for key in schema.get("required", []):
            assert key in value, f"{path}: missing {key}"
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                check(value[key], sub, f"{path}.{key}")
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key, item in value.items():
                check(item, extra, f"{path}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            check(item, schema["items"], f"{path}[{i}]")


@pytest.fixture
def filled(db: Database) -> Database:
    add_sample(db)
    return db


PERSONAL = ("13912345678", "13700001111", "张三丰", "李四")


@pytest.mark.parametrize("fmt", ["text", "csv", "json"])
def test_buyer_data_masked_in_every_format(filled: Database, fmt: str) -> None:
    out = render(generate(filled, SETTINGS, now=NOW), fmt)
    for secret in PERSONAL:
        assert secret not in out, (fmt, secret)
    assert "张*" in out and "张**" not in out and "+86139****5678" in out
    # the call list keeps the courier's number whole (report.unmask_call_list defaults to true)
    assert "13812345678" in out and "0571-12345678" in out
    masked = render(generate(filled, make_settings(report={"unmask_call_list": False}), now=NOW), fmt)
    assert "13812345678" not in masked and "0571-12345678" not in masked


def test_json_matches_the_documented_schema(filled: Database) -> None:
    data = json.loads(render(generate(filled, SETTINGS, now=NOW), "json"))
    check(data, SCHEMA)
    keys = [(e["carrier"], e["tracking_number"], e["flag"]) for e in data["flagged"]]
    assert sorted(keys) == sorted(set(keys)) == [
        ("yuantong", "YT1", "unreachable"), ("zhongtong", "ZT1", "stalled"), ("zhongtong", "ZT2", "exception"),
        ("zhongtong", "ZT2", "stalled")]
    zt1 = next(e for e in data["flagged"] if e["tracking_number"] == "ZT1")
    assert zt1["hours_since_update"] == 80.0 and zt1["threshold_hours"] == 72.0 and zt1["acknowledged"] is False
    assert zt1["last_checkpoint"]["text"] == "【杭州市】派件员：王师傅 电话：138****5678"


def test_csv_has_bom_and_parses_back(filled: Database) -> None:
    text = render(generate(filled, SETTINGS, now=NOW), "csv")
    raw = text.encode("utf-8")
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 4
    assert {r["tracking_number"] for r in rows} == {"ZT1", "ZT2", "YT1"}
    zt1 = next(r for r in rows if r["tracking_number"] == "ZT1")
    assert zt1["buyer_name"] == "张*" and zt1["extended_by"] == "holiday" and zt1["next_actions"] == "call_outlet;call_buyer"


def test_text_has_summary_sections_and_groups(filled: Database) -> None:
    out = render(generate(filled, SETTINGS, now=NOW), "text")
    assert out.startswith("小鲸鱼旗舰店 — stall report 2026-11-20 21:30")
    for heading in ("New since the last report (4)", "Still open (0)", "In hand (acknowledged) (0)",
                    "Resolved today (0)", "Call list"):
        assert heading in out
    assert "stalled · zhongtong (2)" in out and "threshold 72 h incl. +24 h holiday" in out


# -- the verbs ---------------------------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    db = open_database(url)
    y = NOW - timedelta(days=1)
    add_parcel(db, "ZT1", [flag("stalled", "transit_stall")], raised_at=y)
    add_parcel(db, "FREE", [], raised_at=y)
    db.dispose()
    capsys.readouterr()  # the migration's log line
    path = tmp_path / "pw.toml"
    path.write_text(f'[shop]\nname = "小鲸鱼"\n[database]\nurl = "{url}"\n', encoding="utf-8")
    return path


def test_report_json_then_ack_moves_to_in_hand(capsys, config: Path) -> None:
    code, out, err = run(capsys, "--config", str(config), "report", "--format", "json")
    assert code == 0, err
    (entry,) = json.loads(out)["flagged"]
    assert (entry["tracking_number"], entry["flag"], entry["section"]) == ("ZT1", "stalled", "new")

    code, out, err = run(capsys, "--config", str(config), "ack", "ZT1", "--note", "已催件", "--by", "小李", "--json")
    assert code == 0, err
    assert json.loads(out)["flags"] == ["stalled"]

    code, out, _ = run(capsys, "--config", str(config), "report", "--format", "json")
    data = json.loads(out)
    assert data["since_last_report"] is not None
    (entry,) = data["flagged"]
    assert entry["section"] == "in_hand" and entry["acknowledged"] is True
    assert entry["acknowledgements"][0]["by"] == "小李"


@pytest.mark.parametrize(("number", "message"), [("NOPE", "no parcel"), ("FREE", "not flagged")])
def test_ack_unknown_or_unflagged_exits_2(capsys, config: Path, number: str, message: str) -> None:
    code, out, err = run(capsys, "--config", str(config), "ack", number, "--note", "x")
    assert code == 2 and message in err and err.count("\n") == 1 and out == ""


def test_report_output_csv_file(capsys, config: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "stall.csv"
    code, out, err = run(capsys, "--config", str(config), "report", "--format", "csv", "--output", str(target))
    assert code == 0 and out == "" and str(target) in err
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")
    assert next(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig"))))[0] == "section"


@pytest.mark.parametrize("argv", [("report", "--date", "yesterday"), ("report", "--format", "pdf"), ("ack", "ZT1")])
def test_report_usage_errors_exit_2(capsys, config: Path, argv: tuple[str, ...]) -> None:
    code, _, err = run(capsys, "--config", str(config), *argv)
    assert code == 2 and err.count("\n") == 1


def test_report_for_a_date_is_not_recorded(capsys, config: Path) -> None:
    run(capsys, "--config", str(config), "report", "--date", "2026-11-19", "--format", "json")
    code, out, _ = run(capsys, "--config", str(config), "report", "--format", "json")
    assert code == 0 and json.loads(out)["since_last_report"] is None
