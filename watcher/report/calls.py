"""The call list: courier and outlet phone numbers pulled out of checkpoint texts.

Pure.  Couriers write them in many ways::

    【杭州市】快件已到达【杭州滨江网点】，如有疑问请联系：13812345678
    派件员：王师傅 电话：138-1234-5678
    网点电话0571-12345678 / （0571）87654321
    客服电话400-889-5543，投诉请拨95311

Recognized: mainland mobiles ``1[3-9]\\d{9}`` (optionally ``+86``, dashes or spaces
between groups), landlines with an area code ``0\\d{2,3}-?\\d{7,8}`` (optionally in
parentheses), ``400``/``800`` service lines and the couriers' short ``95xxx(x)`` /
``11183`` hotlines.  Numbers are normalized (digits, one dash after a landline's
area code) and deduplicated, keeping the first context seen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["CallNumber", "extract_numbers", "call_list", "mask_numbers"]

_NUMBER_RE = re.compile(
    r"(?<![\dA-Za-z])(?:"
    r"(?P<mobile>(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4})"
    r"|(?P<service>[48]00[- ]?\d{3}[- ]?\d{4})"
    r"|(?P<landline>[(（]?0\d{2,3}[)）]?[- ]?\d{7,8})"
    r"|(?P<hotline>95\d{3,4}|11183)"
    r")(?![\dA-Za-z])"
)
_COURIER_WORDS = ("派件员", "派送员", "快递员", "配送员", "收派员", "业务员", "小哥", "师傅", "司机", "投递员")
_OUTLET_WORDS = ("网点", "营业部", "营业点", "站点", "驿站", "分部", "代收点", "服务站", "分拨", "中心", "公司", "门店")
#: text between the previous number (or clause start) and this one that tells whose number it is
_CLAUSE_BREAK = re.compile(r"[，。,;；!！\n]")
_PUNCT = " ：:，,。;；、()（）[]【】-—/|"


@dataclass(frozen=True, slots=True)
class CallNumber:
    number: str  # normalized: 13812345678, 0571-12345678, 400-889-5543, 95311
    kind: str  # courier | outlet | service | contact
    context: str  # the words before the number, e.g. "派件员：王师傅 电话"


def _normalize(match: re.Match[str]) -> tuple[str, str]:
    digits = re.sub(r"\D", "", match.group(0))
    if match.group("mobile"):
        return digits[-11:], "mobile"
    if match.group("service"):
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}", "service"
    if match.group("landline"):
        raw = re.sub(r"[()（）\s]", "-", match.group(0)).strip("-")
        area = raw.split("-")[0] if "-" in raw else _area_code(digits)
        return f"{area}-{digits[len(area):]}", "landline"
    return digits, "service"


_THREE_DIGIT_AREAS = {"010", "020", "021", "022", "023", "024", "025", "027", "028", "029"}


def _area_code(digits: str) -> str:
    """0571xxxxxxxx → 0571; 010/02x are three digits."""
    return digits[:3] if digits[:3] in _THREE_DIGIT_AREAS else digits[:4]


def _context(text: str, start: int, previous_end: int) -> str:
    before = text[previous_end:start]
    parts = _CLAUSE_BREAK.split(before)
    # the location bracket that opens most checkpoints is not context
    parts = [re.sub(r"^\s*【[^】]*】", "", part).strip(_PUNCT) for part in parts]
    clause = parts[-1]
    if not clause and len(parts) > 1:  # "…网点，电话：" has the words one clause earlier
        clause = parts[-2]
    return clause[-24:]


def _kind(context: str, shape: str) -> str:
    if shape == "service":
        return "service"
    if any(word in context for word in _COURIER_WORDS):
        return "courier"
    if any(word in context for word in _OUTLET_WORDS) or shape == "landline":
        return "outlet"
    return "contact"


def extract_numbers(text: str) -> list[CallNumber]:
    """Every phone number in one checkpoint text, in order, deduplicated."""
    found: dict[str, CallNumber] = {}
    previous_end = 0
    for match in _NUMBER_RE.finditer(text or ""):
        number, shape = _normalize(match)
        context = _context(text, match.start(), previous_end)
        kind = _kind(context, shape)
        if kind == "contact":  # "【滨江网点】…，如有疑问请联系：138…" — the outlet's number
            kind = _kind(text[previous_end:match.start()], shape)
        previous_end = match.end()
        if number not in found:
            found[number] = CallNumber(number, kind, context)
    return list(found.values())


def call_list(texts: Iterable[str]) -> list[CallNumber]:
    """Numbers from many texts (newest first), deduplicated; the first context wins,
    unless a later one says more (a bare number, then "派件员 电话: …")."""
    found: dict[str, CallNumber] = {}
    for text in texts:
        for item in extract_numbers(text):
            known = found.get(item.number)
            if known is None or (not known.context and item.context):
                found[item.number] = item
    return list(found.values())


def mask_numbers(text: str) -> str:
    """Hide the middle of every mobile and landline in ``text`` (service hotlines stay)."""

    def hide(match: re.Match[str]) -> str:
        if not (match.group("mobile") or match.group("landline")):
            return match.group(0)
        raw = match.group(0)
        digits = [i for i, ch in enumerate(raw) if ch.isdigit()]
        hidden = set(digits[-8:-4])
        return "".join("*" if i in hidden else ch for i, ch in enumerate(raw))

    return _NUMBER_RE.sub(hide, text or "")
