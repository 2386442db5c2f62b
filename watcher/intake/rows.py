"""Row validation: raw column values in, a :class:`ParcelInput` or a :class:`RowError` out.

Pure: no I/O, no clock (``now`` is passed in), no database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timedelta, timezone, tzinfo

import phonenumbers

from carriers.couriers import UnknownCourier, resolve_courier
from watcher.redact import mask_phone

__all__ = [
    "ParcelInput",
    "RowError",
    "INTAKE_FIELDS",
    "MASKED_PHONE_RE",
    "validate_row",
    "parse_time",
    "merge_duplicates",
]

#: ParcelInput fields that intake may write to a stored parcel (besides the key)
INTAKE_FIELDS: tuple[str, ...] = (
    "order_id",
    "buyer_name",
    "buyer_phone",
    "buyer_chat_id",
    "province",
    "city",
    "district",
    "address",
    "shipped_at",
    "language",
)

# column -> maximum length (the store's column sizes; PostgreSQL enforces them)
_MAX_LEN = {
    "order_id": 128,
    "buyer_name": 128,
    "buyer_chat_id": 128,
    "province": 64,
    "city": 64,
    "district": 64,
}
_TRACKING_RE = re.compile(r"[A-Za-z0-9-]{6,40}")
_EXCEL_SCI_RE = re.compile(r"[0-9](?:\.[0-9]+)?[eE]\+?[0-9]+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_PLAIN_CN_MOBILE_RE = re.compile(r"(?:\+?86[ -]?)?(1\d\d[ -]?\d{4}[ -]?\d{4})")
_LANG_RE = re.compile(r"([a-z]{2,3})(?:-([a-z]{2,4}))?", re.IGNORECASE)
_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日",
)
_FUTURE_SLACK = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class ParcelInput:
    """One validated parcel: canonical courier code, E.164 phone, aware UTC ``shipped_at``."""

    courier: str
    tracking_number: str
    order_id: str | None = None
    buyer_name: str | None = None
    buyer_phone: str | None = None
    buyer_chat_id: str | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None
    address: str | None = None
    shipped_at: datetime | None = None
    language: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.courier, self.tracking_number)


@dataclass(frozen=True, slots=True)
class RowError:
    """Why one input row was refused; ``str()`` is one line, safe for logs (phones masked)."""

    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.column}: {self.reason}"


class _Bad(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.translate(_INVISIBLE).strip()
    return value or None


def _excel_hint(value: str) -> str:
    return f"{value} looks like Excel scientific notation; format the column as text and export again"


def _carrier(value: str | None) -> str:
    if value is None:
        raise _Bad("carrier", "missing; give a courier code or name such as zhongtong, 中通 or ZTO")
    try:
        return resolve_courier(value)
    except UnknownCourier as exc:
        raise _Bad("carrier", str(exc)) from None


def _tracking_number(value: str | None) -> str:
    if value is None:
        raise _Bad("tracking_number", "missing")
    number = "".join(unicodedata.normalize("NFKC", value).split())
    if _EXCEL_SCI_RE.fullmatch(number):
        raise _Bad("tracking_number", _excel_hint(number))
    if not _TRACKING_RE.fullmatch(number):
        raise _Bad(
            "tracking_number",
            f"bad tracking number {number!r} (expected 6-40 letters, digits or '-')",
        )
    return number


@lru_cache(maxsize=1)
def _cn_mobile_re() -> re.Pattern[str]:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    mobile = metadata.mobile if metadata is not None else None
    pattern = mobile.national_number_pattern if mobile is not None else None
    return re.compile(pattern or r"(?!)")  # without metadata: always the full parse


def _fast_cn_mobile(value: str) -> str | None:
    """E.164 for a plain mainland mobile, using libphonenumber's own mobile pattern.

    A full ``phonenumbers.parse`` costs ~100 µs; this path covers almost every row.
    """
    match = _PLAIN_CN_MOBILE_RE.fullmatch(value)
    if match is None:
        return None
    national = "".join(match.group(1).split()).replace("-", "")
    return f"+86{national}" if _cn_mobile_re().fullmatch(national) else None


#: a phone the marketplace masked in its export (138****5678): not usable, not an error
MASKED_PHONE_RE = re.compile(r"[+\d\s-]{2,}\*{2,}[\d\s-]{2,}")


def _phone(value: str | None) -> str | None:
    if value is None or MASKED_PHONE_RE.fullmatch(value.strip()):
        return None
    fast = _fast_cn_mobile(value)
    if fast is not None:
        return fast
    digits = sum(ch.isdigit() for ch in value)
    shown = mask_phone(value) if digits >= 7 else value
    if _EXCEL_SCI_RE.fullmatch(value):
        raise _Bad("buyer_phone", f"invalid phone number {shown}: " + _excel_hint("it"))
    try:
        number = phonenumbers.parse(value, "CN")
        valid = phonenumbers.is_valid_number(number)
    except phonenumbers.NumberParseException:
        valid = False
    if not valid:
        raise _Bad(
            "buyer_phone",
            f"invalid phone number {shown} "
            "(expected a mainland mobile such as 13812345678 or an international +… number)",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_time(text: str, shop_tz: tzinfo) -> datetime | None:
    """ISO 8601 or common spreadsheet formats; naive times are in ``shop_tz``. ``None`` if unparsable."""
    text = text.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        for fmt in _TIME_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=shop_tz)
    return parsed.astimezone(timezone.utc)


def _shipped_at(value: str | None, shop_tz: tzinfo, now: datetime) -> datetime | None:
    if value is None:
        return None
    when = parse_time(value, shop_tz)
    if when is None:
        raise _Bad("shipped_at", f"bad time {value!r} (expected e.g. 2026-11-20 18:30 or ISO 8601)")
    if when > now + _FUTURE_SLACK:
        raise _Bad("shipped_at", f"time {value!r} is more than 1 day in the future")
    return when


def _language(value: str | None) -> str | None:
    if value is None:
        return None
    match = _LANG_RE.fullmatch(value.replace("_", "-"))
    if match is None:
        raise _Bad("language", f"bad language tag {value!r} (expected e.g. zh-CN or en)")
    primary, sub = match.group(1).lower(), match.group(2)
    if sub is None:
        return primary
    sub = sub.upper() if len(sub) == 2 else sub.title() if len(sub) == 4 else sub.lower()
    return f"{primary}-{sub}"


def _plain(column: str, value: str | None) -> str | None:
    limit = _MAX_LEN.get(column)
    if value is not None and limit is not None and len(value) > limit:
        raise _Bad(column, f"too long ({len(value)} characters, at most {limit})")
    if column == "order_id" and value is not None and _EXCEL_SCI_RE.fullmatch(value):
        raise _Bad(column, _excel_hint(value))
    return value


def validate_row(
    values: Mapping[str, str | None], *, line: int, shop_tz: tzinfo, now: datetime
) -> ParcelInput | RowError:
    """Validate one row's values (by canonical column name); the first problem found wins."""
    v = {key: _text(value) for key, value in values.items()}
    try:
        courier = _carrier(v.get("carrier"))
        number = _tracking_number(v.get("tracking_number"))
        order_id = _plain("order_id", v.get("order_id"))
        buyer_name = _plain("buyer_name", v.get("buyer_name"))
        phone = _phone(v.get("buyer_phone"))
        chat_id = _plain("buyer_chat_id", v.get("buyer_chat_id"))
        province = _plain("province", v.get("province"))
        city = _plain("city", v.get("city"))
        district = _plain("district", v.get("district"))
        shipped_at = _shipped_at(v.get("shipped_at"), shop_tz, now)
        language = _language(v.get("language"))
    except _Bad as bad:
        return RowError(line=line, column=bad.column, reason=bad.reason)
    return ParcelInput(
        courier=courier,
        tracking_number=number,
        order_id=order_id,
        buyer_name=buyer_name,
        buyer_phone=phone,
        buyer_chat_id=chat_id,
        province=province,
        city=city,
        district=district,
        address=v.get("address"),
        shipped_at=shipped_at,
        language=language,
    )


def merge_duplicates(
    items: Iterable[tuple[int, ParcelInput]],
) -> tuple[list[tuple[int, ParcelInput]], list[RowError], int]:
    """Keep the first row per (courier, number); identical repeats are merged, others refused.

    Returns ``(kept, errors, merged_count)``.
    """
    first_line: dict[tuple[str, str], tuple[int, ParcelInput]] = {}
    kept: list[tuple[int, ParcelInput]] = []
    errors: list[RowError] = []
    merged = 0
    for line, parcel in items:
        seen = first_line.get(parcel.key)
        if seen is None:
            first_line[parcel.key] = (line, parcel)
            kept.append((line, parcel))
        elif seen[1] == parcel:
            merged += 1
        else:
            errors.append(RowError(line, "tracking_number", f"duplicate of line {seen[0]} with different values"))
    return kept, errors, merged
