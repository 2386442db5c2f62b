"""import_csv / add_parcel end to end on a temporary SQLite store."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

import watcher.intake as intake
from watcher.errors import InputError
from watcher.intake import ImportReport, ParcelInput, SaveSummary, add_parcel, import_csv
from watcher.store.db import Database, open_database
from watcher.store.models import Parcel

FIXTURES = Path(__file__).parent / "fixtures"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 21, 4, 0, tzinfo=timezone.utc)
HEADER = "carrier,tracking_number,order_id,buyer_name,buyer_phone,address,shipped_at,language\n"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path}/t.db")
    yield database
    database.dispose()


def parcels(db: Database) -> dict[str, Parcel]:
    with db.session() as session:
        return {p.tracking_number: p for p in session.exec(select(Parcel)).all()}


def write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding, newline="")
    return path


def run(path: Path, db: Database, now: datetime = NOW, **kwargs: object) -> ImportReport:
    return import_csv(path, db=db, shop_tz=SHANGHAI, now=now, **kwargs)  # type: ignore[arg-type]


def test_public_api_is_pinned() -> None:
    assert sorted(intake.__all__) == sorted(
        ["COLUMNS", "ImportReport", "ParcelInput", "RowError", "SaveSummary", "add_parcel", "import_csv"]
    )


def test_fixture_with_chinese_headers(store: Database) -> None:
    report = run(FIXTURES / "orders_zh.csv", store)
    assert (report.rows, report.added, report.updated, report.unchanged) == (3, 3, 0, 0)
    assert report.errors == []
    assert report.warnings == ["ignored unknown columns: 备注"]
    stored = parcels(store)
    zt = stored["ZT0000000001"]
    assert (zt.courier, zt.buyer_phone, zt.order_id, zt.buyer_name) == (
        "zhongtong", "+8613812345678", "TB-1001", "张三",
    )
    assert (zt.province, zt.city, zt.district) == ("浙江省", "杭州市", "西湖区")
    assert zt.shipped_at == datetime(2026, 11, 20, 10, 30, tzinfo=timezone.utc)
    assert (zt.status, zt.flags, zt.created_at, zt.updated_at, zt.next_poll_at) == (
        "pending", "", NOW, NOW, NOW,
    )
    sf = stored["SF1234567890"]
    assert (sf.courier, sf.province, sf.city, sf.district) == ("shunfeng", "广东省", "广州市", "天河区")
    assert sf.address == "广州天河区体育西路103号, 维多利广场"
    jt = stored["JT0000000003"]
    assert (jt.courier, jt.buyer_phone, jt.province, jt.city) == ("jtexpress", None, "上海市", "上海市")
    assert jt.shipped_at == datetime(2026, 11, 18, 16, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_encodings(tmp_path: Path, store: Database, encoding: str) -> None:
    path = write(tmp_path, "快递公司,运单号,收货人,收货地址\r\n韵达,YD1234567,李四,西藏拉萨市城关区北京中路\r\n", encoding)
    report = run(path, store)
    assert (report.added, report.errors) == (1, [])
    stored = parcels(store)["YD1234567"]
    assert (stored.courier, stored.buyer_name, stored.province) == ("yunda", "李四", "西藏自治区")


def test_missing_required_column_imports_nothing(tmp_path: Path, store: Database) -> None:
    path = write(tmp_path, "carrier,运单\n中通,ZT0000000001\n")
    with pytest.raises(InputError, match="missing required column 'tracking_number'"):
        run(path, store)
    assert parcels(store) == {}


def test_bad_rows_reported_by_real_line_and_good_rows_saved(tmp_path: Path, store: Database) -> None:
    text = (
        "\n" + HEADER                                  # lines 1-2
        + "中通,ZT0000000001,,,13812345678,,,\n"        # 3 good
        + "\n\n"                                       # 4-5 blank
        + "中通,ZT0000000002,,,1381234,,,\n"            # 6 bad phone
        + '中通,ZT0000000003,,"Multi\nLine",,,,\n'     # 7-8 good (quoted newline)
        + "顺风耳,ZT0000000004,,,,,,\n"                 # 9 bad carrier
        + "中通,ZT0000000005,,,,,yesterday,\n"          # 10 bad time
    )
    report = run(write(tmp_path, text), store)
    assert [str(e).split(" (")[0].split(";")[0] for e in report.errors] == [
        "line 6: buyer_phone: invalid phone number 13***34",
        "line 9: carrier: unknown courier '顺风耳'",
        "line 10: shipped_at: bad time 'yesterday'",
    ]
    assert "known codes: " in report.errors[1].reason and "zhongtong" in report.errors[1].reason
    assert (report.rows, report.added) == (5, 2)
    assert sorted(parcels(store)) == ["ZT0000000001", "ZT0000000003"]
    assert parcels(store)["ZT0000000003"].buyer_name == "Multi\nLine"


def test_duplicates_identical_merged_conflicting_refused(tmp_path: Path, store: Database) -> None:
    text = HEADER + (
        "中通,ZT0000000001,A,,,,,\n"
        "ZTO,ZT0000000001,A,,,,,\n"     # same parcel, same values (alias of the same courier)
        "中通,ZT0000000001,B,,,,,\n"    # same parcel, different values
        "顺丰,ZT0000000001,A,,,,,\n"    # another courier: another parcel
    )
    report = run(write(tmp_path, text), store)
    assert report.duplicates_skipped == 1
    assert [str(e) for e in report.errors] == [
        "line 4: tracking_number: duplicate of line 2 with different values"
    ]
    assert report.added == 2
    with store.session() as session:
        rows = session.exec(select(Parcel.courier, Parcel.order_id)).all()
    assert sorted(rows) == [("shunfeng", "A"), ("zhongtong", "A")]


def test_reimport_changes_nothing_then_update_never_erases(tmp_path: Path, store: Database) -> None:
    first = HEADER + "中通,ZT0000000001,TB1,张三,13812345678,浙江省杭州市西湖区文三路90号,2026-11-20 18:30,zh-CN\n"
    path = write(tmp_path, first)
    assert run(path, store).added == 1
    later = NOW + timedelta(hours=1)
    again = run(path, store, now=later)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 1)
    assert parcels(store)["ZT0000000001"].updated_at == NOW

    # new phone, empty name and address: phone updated, nothing erased
    changed = HEADER + "中通,ZT0000000001,TB1,,13912345678,,2026-11-20 18:30,\n"
    report = run(write(tmp_path, changed, name="changed.csv"), store, now=later)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 0)
    stored = parcels(store)["ZT0000000001"]
    assert stored.buyer_phone == "+8613912345678"
    assert (stored.buyer_name, stored.language, stored.city) == ("张三", "zh-CN", "杭州市")
    assert (stored.created_at, stored.updated_at, stored.next_poll_at) == (NOW, later, NOW)


def test_update_keeps_tracking_state(tmp_path: Path, store: Database) -> None:
    path = write(tmp_path, HEADER + "中通,ZT0000000001,TB1,,,,,\n")
    run(path, store)
    with store.session() as session:
        row = session.exec(select(Parcel)).one()
        row.status, row.flags, row.next_poll_at = "in_transit", ",stalled,", None
    run(write(tmp_path, HEADER + "中通,ZT0000000001,TB2,,,,,\n", name="b.csv"), store)
    stored = parcels(store)["ZT0000000001"]
    assert (stored.order_id, stored.status, stored.flags, stored.next_poll_at) == (
        "TB2", "in_transit", ",stalled,", None,
    )


def test_thousand_good_rows_and_ten_bad_ones(tmp_path: Path, store: Database) -> None:
    bad = {
        100: ("顺风耳", "BAD0000001", "", "", ""),           # unknown carrier
        200: ("中通", "7.51235E+11", "", "", ""),            # Excel scientific notation
        300: ("中通", "12345", "", "", ""),                  # too short
        400: ("中通", "BAD0000004", "12345678901", "", ""),  # invalid phone
        500: ("中通", "BAD0000005", "", "20/11/2026", ""),   # bad time
        600: ("中通", "BAD0000006", "", "2030-01-01", ""),   # far future
        700: ("中通", "BAD0000007", "", "", "chinese"),      # bad language
        800: ("SF", "GOOD000010", "", "", "en"),             # conflicting duplicate of a good row
        900: ("", "BAD0000009", "", "", ""),                 # missing carrier
        950: ("中通", "", "", "", ""),                       # missing tracking number
    }
    rows: list[tuple[str, ...]] = []
    for i in range(1000):
        if i in bad:
            rows.append(bad[i])
        rows.append(("中通" if i % 2 else "SF", f"GOOD{i:06d}", f"13{8 + i % 2}1234{i:04d}", "2026-11-20 18:30", ""))
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["carrier", "tracking_number", "buyer_phone", "shipped_at", "language"])
        writer.writerows(rows)
    calls: list[tuple[int, int]] = []
    report = run(path, store, progress=lambda done, total: calls.append((done, total)))
    assert (report.rows, report.added, report.updated, report.unchanged) == (1010, 1000, 0, 0)
    assert report.duplicates_skipped == 0
    assert len(report.errors) == 10
    lines = [e.line for e in report.errors]
    assert lines == sorted(lines)
    assert [(e.column, e.reason.split(" (")[0]) for e in report.errors] == [
        ("carrier", report.errors[0].reason.split(" (")[0]),
        ("tracking_number", "7.51235E+11 looks like Excel scientific notation; format the column as text and export again"),
        ("tracking_number", "bad tracking number '12345'"),
        ("buyer_phone", "invalid phone number 123****8901"),
        ("shipped_at", "bad time '20/11/2026'"),
        ("shipped_at", "time '2030-01-01' is more than 1 day in the future"),
        ("language", "bad language tag 'chinese'"),
        ("tracking_number", "duplicate of line 12 with different values"),
        ("carrier", "missing; give a courier code or name such as zhongtong, 中通 or ZTO"),
        ("tracking_number", "missing"),
    ]
    assert report.errors[0].reason.startswith("unknown courier '顺风耳'")
    # line numbers: header is line 1, the bad row sits just before good row i
    assert lines[0] == 102 and lines[-1] == 961
    assert len(parcels(store)) == 1000
    assert calls[0] == (0, 2020) and calls[-1] == (2020, 2020)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_add_parcel(store: Database) -> None:
    fields = {"carrier": "顺丰", "tracking_number": "SF1234567890", "buyer_phone": "13812345678",
              "address": "广州天河区体育西路103号", "shipped_at": "2026-11-20 18:30", "language": None}
    parcel, summary = add_parcel(fields, db=store, shop_tz=SHANGHAI, now=NOW)
    assert summary == SaveSummary(added=1)
    assert parcel == ParcelInput(
        courier="shunfeng", tracking_number="SF1234567890", buyer_phone="+8613812345678",
        province="广东省", city="广州市", district="天河区", address="广州天河区体育西路103号",
        shipped_at=datetime(2026, 11, 20, 10, 30, tzinfo=timezone.utc),
    )
    again = add_parcel({**fields, "buyer_name": "李四"}, db=store, shop_tz=SHANGHAI, now=NOW)
    assert again[1] == SaveSummary(updated=1)
    assert parcels(store)["SF1234567890"].buyer_name == "李四"


def test_add_parcel_bad_value_is_one_line_input_error(store: Database) -> None:
    with pytest.raises(InputError) as info:
        add_parcel({"carrier": "中通", "tracking_number": "ZT0000000001", "buyer_phone": "12345678901"},
                   db=store, shop_tz=SHANGHAI, now=NOW)
    assert str(info.value).startswith("buyer_phone: invalid phone number 123****8901 (")
    assert "\n" not in str(info.value)
    with pytest.raises(InputError, match="unknown field colour"):
        add_parcel({"carrier": "中通", "tracking_number": "ZT0000000001", "colour": "red"},
                   db=store, shop_tz=SHANGHAI, now=NOW)
    assert parcels(store) == {}
