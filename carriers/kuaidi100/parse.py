"""Pure functions: build the signed query form, and turn a reply into a result.

Request (``POST {base_url}/poll/query.do``, form-encoded)::

    customer = <授权码>
    param    = {"com":"zhongtong","num":"…","phone":"5678","resultv2":"4","show":"0","order":"desc"}
    sign     = upper(md5(param + key + customer))      # param exactly as sent

Replies: a trace ``{"message":"ok","state":"…","data":[…],…}`` or an error
``{"result":false,"returnCode":"500","message":"…"}``.  Per-number answers become
:class:`~carriers.base.Problem` values; answers about the whole request raise the
``Provider*`` errors of :mod:`watcher.errors`.  Nothing here does I/O or logs secrets.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from carriers.base import (
    Checkpoint,
    Problem,
    ProblemKind,
    Status,
    Tracking,
    TrackingQuery,
    TrackingResult,
)
from carriers.kuaidi100.statuses import PROVIDER, STATE_NAMES, TIME_VERDICT_STATES, state_status
from watcher.errors import ProviderAuthError, ProviderRejected, ProviderTransient

__all__ = [
    "CHINA_TZ",
    "QUERY_PATH",
    "NUMBER_MIN_LEN",
    "NUMBER_MAX_LEN",
    "phone_suffix",
    "build_param",
    "sign",
    "build_form",
    "parse_time",
    "parse_body",
    "parse_reply",
]

CHINA_TZ = ZoneInfo("Asia/Shanghai")
QUERY_PATH = "/poll/query.do"
#: the docs: "单号的最小长度6个字符,最大长度32个字符"
NUMBER_MIN_LEN = 6
NUMBER_MAX_LEN = 32
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")

#: returnCode -> per-number problem (the request was fine, this number has no answer)
_PROBLEM_CODES: Mapping[str, ProblemKind] = MappingProxyType(
    {
        "500": ProblemKind.NOT_FOUND,  # 查询无结果，请隔段时间再查
        "408": ProblemKind.NEEDS_PHONE,  # 快递公司参数异常：验证码错误 (SF/ZTO phone missing or wrong)
    }
)
#: exact 400 messages that concern this number only; other 400s are about the request
_PROBLEM_400_MESSAGES: Mapping[str, ProblemKind] = MappingProxyType(
    {"不支持此快递公司": ProblemKind.UNSUPPORTED_COURIER}
)
_AUTH_CODES: Mapping[str, str] = MappingProxyType(
    {
        "503": "signature rejected (验证签名失败): check providers.kuaidi100.key and customer",
        "601": "key expired or no query quota left (账号无可用单量): top up the account",
    }
)
_TRANSIENT_CODES: Mapping[str, str] = MappingProxyType(
    {"501": "server error (服务器错误)", "502": "server busy (服务器繁忙)"}
)


def phone_suffix(phone: str | None) -> str | None:
    """Last four digits of a phone (E.164, formatted, or a 虚拟号 ``…-1234``), if it has four."""
    digits = re.sub(r"\D", "", phone or "")
    return digits[-4:] if len(digits) >= 4 else None


def build_param(query: TrackingQuery) -> str:
    """The ``param`` JSON string, compact and in a fixed key order (it is signed as is)."""
    fields: dict[str, str] = {"com": query.courier, "num": query.tracking_number.strip()}
    suffix = phone_suffix(query.phone)
    if suffix:
        fields["phone"] = suffix
    fields.update(resultv2="4", show="0", order="desc")
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))


def sign(param: str, key: str, customer: str) -> str:
    """``upper(md5(param + key + customer))`` over UTF-8."""
    return hashlib.md5((param + key + customer).encode("utf-8")).hexdigest().upper()


def build_form(query: TrackingQuery, *, customer: str, key: str) -> dict[str, str]:
    param = build_param(query)
    return {"customer": customer, "sign": sign(param, key, customer), "param": param}


def parse_time(text: str) -> datetime:
    """A naive China-time string (``2024-05-01 10:00:00``) as an aware datetime."""
    text = text.strip()
    if len(text) == 19 and text[4] == "-" and text[10] == " ":  # the documented shape: fast path
        try:
            return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)
        except ValueError:
            pass
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=CHINA_TZ)
        except ValueError:
            continue
    raise ValueError(f"unrecognized time {text!r}")


def _malformed(detail: str) -> ProviderTransient:
    return ProviderTransient(f"{PROVIDER}: malformed body ({detail})", provider=PROVIDER)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _code(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return ""
    return str(value).strip()


def _checkpoint(item: Any) -> Checkpoint:
    if not isinstance(item, Mapping):
        raise _malformed("checkpoint is not an object")
    when = item.get("time") or item.get("ftime")
    if not isinstance(when, str):
        raise _malformed("checkpoint without time")
    try:
        time = parse_time(when)
    except ValueError:
        raise _malformed(f"checkpoint time {when[:40]!r}") from None
    raw_code = _code(item.get("statusCode"))
    return Checkpoint(
        time=time,
        text=_text(item.get("context")),
        location=_text(item.get("location")) or _text(item.get("areaName")),
        raw_code=raw_code,
        status=state_status(raw_code) if raw_code else None,
        label=STATE_NAMES.get(raw_code, "") or _text(item.get("status")),
    )


def _trace(query: TrackingQuery, payload: Mapping[str, Any]) -> TrackingResult:
    data = payload.get("data")
    state = _code(payload.get("state"))
    if not isinstance(data, list):
        raise _malformed("no data list")
    if not data:
        problem = Problem(ProblemKind.NOT_FOUND, f"{PROVIDER}: no checkpoints yet", raw_code=state)
        return TrackingResult(query, problem=problem)
    checkpoints = tuple(sorted((_checkpoint(item) for item in data), key=lambda c: c.time, reverse=True))
    status = state_status(state) if state else Status.UNKNOWN  # no state: the checkpoints must tell
    if state in TIME_VERDICT_STATES or not state:
        newest = checkpoints[0].status
        if newest is not None and newest is not Status.UNKNOWN:
            status = newest
    tracking = Tracking(status=status, checkpoints=checkpoints, provider=PROVIDER, raw_status=state)
    return TrackingResult(query, tracking=tracking)


def _error(query: TrackingQuery, code: str, message: str) -> TrackingResult:
    shown = message[:120]
    kind = _PROBLEM_CODES.get(code)
    if code == "400":
        kind = _PROBLEM_400_MESSAGES.get(message.rstrip("。.! "))
    if kind is not None:
        return TrackingResult(query, problem=Problem(kind, shown or f"{PROVIDER}: returnCode {code}", raw_code=code))
    if code in _AUTH_CODES:
        raise ProviderAuthError(f"{PROVIDER}: {_AUTH_CODES[code]} (returnCode {code})", provider=PROVIDER, code=code)
    if code in _TRANSIENT_CODES:
        raise ProviderTransient(f"{PROVIDER}: {_TRANSIENT_CODES[code]} (returnCode {code})", provider=PROVIDER, code=code)
    if code == "400":
        # The docs' FAQ: 找不到对应公司 means incomplete form data, a wrong customer or no
        # quota — about the request, not this number (our courier codes are Kuaidi100's).
        raise ProviderRejected(
            f"{PROVIDER}: request rejected (returnCode 400: {shown}); check the form, "
            "providers.kuaidi100.customer and the account's quota",
            provider=PROVIDER,
            code=code,
        )
    raise ProviderRejected(f"{PROVIDER}: request rejected (returnCode {code}: {shown})", provider=PROVIDER, code=code)


def parse_reply(query: TrackingQuery, payload: Any) -> TrackingResult:
    """One decoded JSON reply -> one result; raises ``Provider*`` errors for whole-request failures."""
    if not isinstance(payload, Mapping):
        raise _malformed("not a JSON object")
    code = _code(payload.get("returnCode"))
    if code and code != "200":
        return _error(query, code, _text(payload.get("message")))
    if payload.get("result") is False:
        raise _malformed("result false without returnCode")
    return _trace(query, payload)


def parse_body(query: TrackingQuery, body: bytes | str) -> TrackingResult:
    """Raw response body -> one result (non-JSON bodies are transient: malformed body)."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise _malformed("not JSON") from None
    return parse_reply(query, payload)
