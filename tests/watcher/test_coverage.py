"""Pre-dispatch coverage: configured gaps, the shop's own history, and suggestions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import T0, make_settings
from watcher.cli.main import main
from watcher.coverage import check_coverage
from watcher.errors import InputError
from watcher.store.db import Database
from watcher.store.models import FlagEvent, Parcel

KASHGAR = dict(province="新疆维吾尔自治区", city="喀什地区", district="塔什库尔干塔吉克自治县")


def seed(db: Database) -> None:
    with db.session() as s:
        for i, (courier, status, flagged) in enumerate(
            [("zhongtong", "exception", True), ("zhongtong", "returned", True), ("ems", "delivered", False),
             ("ems", "delivered", False), ("yunda", "delivered", False), ("shunfeng", "delivered", False)]
        ):
            where = KASHGAR if courier != "shunfeng" else dict(province="广东省", city="深圳市", district="南山区")
            p = Parcel(courier=courier, tracking_number=f"N{i}", status=status, created_at=T0, updated_at=T0, **where)
            s.add(p)
            s.flush()
            if flagged:
                s.add(FlagEvent(parcel_id=p.id, flag="unreachable", code="out_of_area", reason="超区", since=T0,
                                raised_at=T0))


ADDRESS = "新疆喀什地区塔什库尔干塔吉克自治县红其拉甫路8号"


def test_history_says_a_courier_does_not_serve_an_area(db: Database) -> None:
    seed(db)
    answer = check_coverage(db, make_settings(), "中通", ADDRESS)
    assert answer.served is False and answer.unreachable == 2
    assert answer.area.startswith("新疆维吾尔自治区/喀什地区")
    assert [s.courier for s in answer.suggestions][:2] == ["ems", "yunda"]  # by parcels delivered there
    assert answer.suggestions[0].delivered == 2
    assert "youzhengguonei" in [s.courier for s in answer.suggestions]  # the universal fallback


def test_configured_gaps_and_positive_history(db: Database) -> None:
    seed(db)
    settings = make_settings(detection={"unreachable_areas": {"yunda": ["新疆维吾尔自治区/喀什地区"]}})
    yunda = check_coverage(db, settings, "韵达", ADDRESS)
    assert yunda.served is False and "detection.unreachable_areas.yunda" in yunda.reasons[0]
    ems = check_coverage(db, settings, "EMS", ADDRESS)
    assert ems.served is True and ems.delivered == 2 and ems.suggestions == ()
    unknown = check_coverage(db, settings, "极兔", "广东省深圳市南山区科技园")
    assert unknown.served is None and [s.courier for s in unknown.suggestions][0] == "shunfeng"


def test_bad_address_is_an_input_error(db: Database) -> None:
    with pytest.raises(InputError, match="cannot find"):
        check_coverage(db, make_settings(), "中通", "somewhere over the rainbow")


def test_coverage_cli(capsys, tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "c.db"}"\n'
                   '[detection]\nunreachable_areas = { zhongtong = ["西藏自治区"] }\n', encoding="utf-8")
    assert main(["--config", str(cfg), "coverage", "--carrier", "中通", "--address", "西藏拉萨市城关区北京中路1号",
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["served"] is False and data["suggestions"][0]["courier"] == "ems"
    assert main(["--config", str(cfg), "coverage", "--carrier", "nope", "--address", "x"]) == 2
    assert "unknown courier" in capsys.readouterr().err
