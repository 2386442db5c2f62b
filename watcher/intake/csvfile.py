"""Reading an intake CSV: decoding, header mapping, records with their real line numbers.

Nothing here validates values; :mod:`watcher.intake.rows` does that.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from watcher.errors import InputError
from watcher.intake.rows import INTAKE_FIELDS

__all__ = [
    "COLUMNS",
    "REQUIRED_COLUMNS",
    "HEADER_ALIASES",
    "Record",
    "CsvTable",
    "decode_bytes",
    "parse_csv_text",
    "read_csv",
    "normalize_header",
]

#: canonical column names, in the documented order
COLUMNS: tuple[str, ...] = ("carrier", "tracking_number", *INTAKE_FIELDS)
REQUIRED_COLUMNS: tuple[str, ...] = ("carrier", "tracking_number")

#: other header spellings accepted for each column (case, spaces, '_' and '-' do not matter)
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "carrier": ("快递公司", "快递", "物流公司", "courier"),
    "tracking_number": ("运单号", "快递单号", "物流单号", "运单编号", "tracking no", "waybill"),
    "order_id": ("订单号", "订单编号", "order", "order no"),
    "buyer_name": ("收件人", "收货人", "买家姓名", "收件人姓名", "收货人姓名"),
    "buyer_phone": ("手机号", "手机", "电话", "收件人电话", "收货人电话", "收件人手机", "收货人手机", "phone"),
    "buyer_chat_id": ("chat id",),
    "province": ("省", "省份"),
    "city": ("市", "城市"),
    "district": ("区", "区县"),
    "address": ("详细地址", "收货地址", "地址", "收件地址"),
    "shipped_at": ("发货时间", "shipped"),
    "language": ("语言", "lang"),
}


def normalize_header(name: str) -> str:
    """``" Tracking Number "`` → ``trackingnumber``; full-width forms folded (NFKC)."""
    folded = unicodedata.normalize("NFKC", name).replace("\ufeff", "").casefold()
    return re.sub(r"[\s_\-]+", "", folded)


def _header_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for column in COLUMNS:
        for spelling in (column, *HEADER_ALIASES.get(column, ())):
            index[normalize_header(spelling)] = column
    return index


_HEADER_INDEX = _header_index()


@dataclass(frozen=True, slots=True)
class Record:
    """One non-blank data row: the physical line it starts on and its values by column."""

    line: int
    values: dict[str, str | None]


@dataclass(slots=True)
class CsvTable:
    records: list[Record] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def decode_bytes(data: bytes, name: str = "file") -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK, as Chinese Excel writes).

    UTF-16 with a BOM (Excel's "Unicode text") is read too.  A file that starts with a
    UTF-8 BOM but holds a bad byte is refused rather than read as GB18030 mojibake.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings: tuple[str, ...] = ("utf-16",)
    elif data.startswith(codecs.BOM_UTF8):
        encodings = ("utf-8-sig",)
    else:
        encodings = ("utf-8", "gb18030")
    first_error: UnicodeDecodeError | None = None
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            first_error = first_error or exc
    line = data[: first_error.start if first_error else 0].count(b"\n") + 1
    raise InputError(
        f"{name}: cannot decode line {line}: not UTF-8 or GBK/GB18030 text (save it as CSV UTF-8)"
    )


def _delimiter(text: str) -> str:
    """',' unless the first non-blank line has none but has tabs or semicolons."""
    for line in text.splitlines():
        if line.strip():
            if "," not in line:
                for candidate in ("\t", ";"):
                    if candidate in line:
                        return candidate
            break
    return ","


def _clean(value: str) -> str | None:
    value = value.strip()
    # ="0123" is the trick spreadsheets use to keep leading zeros; unwrap it
    if len(value) >= 3 and value.startswith('="') and value.endswith('"'):
        value = value[2:-1].strip()
    return value or None


def _map_header(header: list[str], name: str) -> tuple[dict[str, int], list[str]]:
    positions: dict[str, int] = {}
    unknown: list[str] = []
    warnings: list[str] = []
    for position, raw in enumerate(header):
        label = raw.strip().lstrip("\ufeff")
        if not label:
            continue
        column = _HEADER_INDEX.get(normalize_header(label))
        if column is None:
            unknown.append(label)
        elif column in positions:
            first = header[positions[column]].strip().lstrip("\ufeff")
            warnings.append(f"columns {first!r} and {label!r} both mean {column}; using {first!r}")
        else:
            positions[column] = position
    missing = [c for c in REQUIRED_COLUMNS if c not in positions]
    if missing:
        details = "; ".join(
            f"{c!r} (also accepted: {', '.join(HEADER_ALIASES[c][:3])})" for c in missing
        )
        found = ", ".join(h.strip() for h in header if h.strip()) or "nothing"
        noun = "column" if len(missing) == 1 else "columns"
        raise InputError(f"{name}: missing required {noun} {details}; header has: {found}")
    if unknown:
        warnings.insert(0, f"ignored unknown columns: {', '.join(unknown)}")
    return positions, warnings


def parse_csv_text(text: str, name: str = "file") -> CsvTable:
    """Records of a decoded CSV text; blank lines are skipped but counted in line numbers."""
    # strict: an unclosed quote is an error instead of silently swallowing the rest of the file
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    header: list[str] | None = None
    positions: dict[str, int] = {}
    table = CsvTable()
    consumed = 0  # physical lines read before the current record
    try:
        for row in reader:
            start, consumed = consumed + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = row
                positions, table.warnings = _map_header(row, name)
                continue
            values = {
                column: _clean(row[pos]) if pos < len(row) else None
                for column, pos in positions.items()
            }
            table.records.append(Record(line=start, values=values))
    except csv.Error as exc:
        raise InputError(
            f"{name}: line {consumed + 1}: unreadable CSV ({exc}); check for an unclosed quote"
        ) from None
    if header is None:
        raise InputError(f"{name}: empty file; expected a header row with carrier,tracking_number")
    return table


def read_csv(path: str | Path) -> CsvTable:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return parse_csv_text(decode_bytes(data, str(path)), str(path))
