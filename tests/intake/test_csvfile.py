"""Decoding and header mapping of intake CSV files."""

from __future__ import annotations

from pathlib import Path

import pytest

from watcher.errors import InputError
from watcher.intake.csvfile import decode_bytes, normalize_header, parse_csv_text, read_csv

FIXTURES = Path(__file__).parent / "fixtures"
HEADER = "carrier,tracking_number,buyer_name\n"
ROW = "中通,ZT0000000001,张三\n"


def write(tmp_path: Path, data: bytes, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "data",
    [
        (HEADER + ROW).encode("utf-8"),
        b"\xef\xbb\xbf" + (HEADER + ROW).encode("utf-8"),
        (HEADER + ROW).encode("gbk"),
        (HEADER + ROW).encode("gb18030"),
    ],
    ids=["utf8", "utf8-bom", "gbk", "gb18030"],
)
def test_decodes_utf8_with_and_without_bom_and_gbk(tmp_path: Path, data: bytes) -> None:
    table = read_csv(write(tmp_path, data))
    assert [r.values for r in table.records] == [
        {"carrier": "中通", "tracking_number": "ZT0000000001", "buyer_name": "张三"}
    ]
    assert table.warnings == []


def test_gbk_file_written_by_python(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_text("快递公司,运单号,收货人\n韵达,YD1234567,李四\n", encoding="gbk")
    (record,) = read_csv(path).records
    assert record.values == {"carrier": "韵达", "tracking_number": "YD1234567", "buyer_name": "李四"}


def test_undecodable_bytes_refuse_the_file() -> None:
    with pytest.raises(InputError, match="not UTF-8 or GBK/GB18030"):
        decode_bytes(b"carrier,tracking_number\n\xff\xfe\xff\x80\n", "bad.csv")


def test_unreadable_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        read_csv(tmp_path / "missing.csv")


def test_chinese_headers_bom_crlf_quotes_and_unknown_columns() -> None:
    table = read_csv(FIXTURES / "orders_zh.csv")
    assert table.warnings == ["ignored unknown columns: 备注"]
    assert [r.line for r in table.records] == [2, 3, 5]
    second = table.records[1].values
    assert second["carrier"] == "顺丰"
    assert second["address"] == "广州天河区体育西路103号, 维多利广场"
    assert second["buyer_phone"] == "+86 139-1234-5678"
    assert second["province"] == "广东省"
    assert second["city"] is None
    assert set(second) == {
        "carrier", "tracking_number", "order_id", "buyer_name", "buyer_phone",
        "province", "city", "district", "address", "shipped_at",
    }


@pytest.mark.parametrize(
    ("label", "column"),
    [
        ("Tracking Number", "tracking_number"),
        (" TRACKING_NUMBER ", "tracking_number"),
        ("tracking-number", "tracking_number"),
        ("Carrier", "carrier"),
        ("快递单号", "tracking_number"),
        ("物流单号", "tracking_number"),
        ("快递", "carrier"),
        ("物流公司", "carrier"),
        ("手机", "buyer_phone"),
        ("电话", "buyer_phone"),
        ("收件人电话", "buyer_phone"),
        ("收货人", "buyer_name"),
        ("买家姓名", "buyer_name"),
        ("省份", "province"),
        ("城市", "city"),
        ("区县", "district"),
        ("收货地址", "address"),
        ("地址", "address"),
        ("订单编号", "order_id"),
        ("发货时间", "shipped_at"),
        ("语言", "language"),
        ("Buyer Chat ID", "buyer_chat_id"),
    ],
)
def test_header_aliases(label: str, column: str) -> None:
    others = [c for c in ("carrier", "tracking_number") if c != column]
    table = parse_csv_text(",".join([label, *others]) + "\n" + ",".join(["x"] + ["y"] * len(others)))
    assert table.records[0].values[column] == "x"
    assert table.warnings == []


def test_normalize_header_folds_case_spaces_and_full_width() -> None:
    assert normalize_header("  Ｔｒａｃｋｉｎｇ　Number ") == "trackingnumber"


def test_missing_required_column_names_it() -> None:
    with pytest.raises(InputError) as info:
        parse_csv_text("carrier,buyer_name\n中通,张三\n", "x.csv")
    message = str(info.value)
    assert "missing required column 'tracking_number'" in message
    assert "运单号" in message
    assert "header has: carrier, buyer_name" in message


def test_missing_both_required_columns() -> None:
    with pytest.raises(InputError, match="missing required columns 'carrier'.*'tracking_number'"):
        parse_csv_text("订单号\nTB1\n")


def test_empty_file_is_refused() -> None:
    with pytest.raises(InputError, match="empty file"):
        parse_csv_text("\n\n  \n")


def test_blank_lines_skipped_but_counted() -> None:
    text = "\n" + HEADER + "\n" + ROW + "\r\n,,\n" + '中通,"ZT00000\n00002",王五\n' + ROW
    table = parse_csv_text(text)
    assert [r.line for r in table.records] == [4, 7, 9]
    assert table.records[1].values["tracking_number"] == "ZT00000\n00002"


def test_values_trimmed_and_spreadsheet_text_trick_unwrapped() -> None:
    table = parse_csv_text('carrier,tracking_number,order_id\n  中通 ,="0012345678", \n')
    assert table.records[0].values == {
        "carrier": "中通",
        "tracking_number": "0012345678",
        "order_id": None,
    }


def test_short_rows_give_none_and_long_rows_are_cut() -> None:
    table = parse_csv_text("carrier,tracking_number,buyer_name\n中通,ZT0000000001\n中通,ZT2,a,extra\n")
    assert table.records[0].values["buyer_name"] is None
    assert table.records[1].values["buyer_name"] == "a"


def test_two_columns_with_the_same_meaning_warn_and_use_the_first() -> None:
    table = parse_csv_text("carrier,tracking_number,手机,电话\n中通,ZT0000000001,13812345678,010-1\n")
    assert table.records[0].values["buyer_phone"] == "13812345678"
    assert table.warnings == ["columns '手机' and '电话' both mean buyer_phone; using '手机'"]


def test_unclosed_quote_refuses_the_file_with_its_line() -> None:
    with pytest.raises(InputError, match=r"line 3: unreadable CSV .*unclosed quote"):
        parse_csv_text(HEADER + ROW + '中通,"ZT1,张三\n' + ROW)


def test_bad_byte_after_utf8_bom_is_refused_with_its_line() -> None:
    data = b"\xef\xbb\xbf" + (HEADER + ROW).encode("utf-8") + "中通,ZT2,caf".encode() + b"\xe9\n"
    with pytest.raises(InputError, match="cannot decode line 3"):
        decode_bytes(data, "x.csv")


def test_utf16_with_bom_excel_unicode_text(tmp_path: Path) -> None:
    text = "快递公司\t运单号\t收件人\r\n中通\tZT0000000001\t张三\r\n"
    table = read_csv(write(tmp_path, text.encode("utf-16")))
    assert table.records[0].values == {"carrier": "中通", "tracking_number": "ZT0000000001", "buyer_name": "张三"}


def test_semicolon_separated_file() -> None:
    table = parse_csv_text("carrier;tracking_number;address\nsf;SF1234567;\"Rue A, 5\"\n")
    assert table.records[0].values == {"carrier": "sf", "tracking_number": "SF1234567", "address": "Rue A, 5"}
