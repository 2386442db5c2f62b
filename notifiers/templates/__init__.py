"""Buyer-notice templates: one Jinja2 file per notice kind and language, overridable by the shop.

Lookup for ``render(kind, ctx, override_dir=…)``, first hit wins::

    for language in (ctx.language, its base, the base's default, "zh-CN"):
        override_dir/<language>/<kind>.j2      (the shop's config folder, e.g. config/templates/)
        built-in     <language>/<kind>.j2      (this package: zh-CN/, en/)

so ``"zh"``, ``"zh-cn"`` and ``"zh_CN"`` find ``zh-CN``, ``"en-US"`` finds ``en``, and a
language nobody wrote templates for gets the zh-CN built-ins.  An override for one
language never shadows another language's built-in.

A template writes the message itself and nothing else.  The renderer frames it
for the channel, so a shop's override cannot forget the mandatory parts:

* ``channel_kind="sms"``: whitespace and newlines collapse to single spaces (none
  between two Chinese characters); Chinese messages start with ``【signature】``
  (mainland rule: signature + approved notification template) and end with
  ``回T退订``; other languages start with ``signature: `` and end with
  ``Reply STOP to opt out`` (unless the template already says ``STOP``/``退订``).
* ``channel_kind="chat"``: the text as written (trimmed); no signature, no opt-out
  — the chat already shows who is talking.

Templates see every :class:`NoticeContext` field plus ``channel_kind``, and the
filter ``clip(n)`` (strip, drop trailing punctuation, cut to ``n`` characters with
``…``).  Undefined variables are errors (``StrictUndefined``); a broken template
raises :class:`TemplateError` naming its file.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from notifiers.segments import encoding
from watcher.errors import ConfigError

__all__ = [
    "KINDS",
    "CHANNEL_KINDS",
    "DEFAULT_LANGUAGE",
    "BUILTIN_DIR",
    "NoticeContext",
    "TemplateError",
    "render",
    "available_languages",
    "language_candidates",
]

KINDS = ("dispatch", "arrived_city", "delay", "unreachable", "follow_up")
CHANNEL_KINDS = ("sms", "chat")
DEFAULT_LANGUAGE = "zh-CN"
BUILTIN_DIR = Path(__file__).resolve().parent

#: a bare language code → the built-in variant it means
_BASE_DEFAULTS = {"zh": "zh-CN"}
#: SMS opt-out line by base language; any other language gets the English one
_OPT_OUT = {"zh": "回T退订", "en": "Reply STOP to opt out"}
_HAS_OPT_OUT = {"zh": re.compile("退订"), "en": re.compile(r"\bSTOP\b")}


class TemplateError(ConfigError):
    """A notice template is missing, does not parse, or uses a variable that does not exist."""


@dataclass(frozen=True, slots=True)
class NoticeContext:
    """What a notice template may say.  Personal data arrives already masked by the caller."""

    shop_name: str
    signature: str  # ShopSettings.signature: the approved SMS signature, else the shop name
    order_id: str
    courier_name: str  # display name in the buyer's language (Courier.display)
    tracking_number: str
    city: str = ""  # the buyer's city, e.g. 乌鲁木齐市
    last_checkpoint: str = ""  # latest checkpoint text (templates clip it)
    buyer_name: str | None = None  # shortened (张*), or None
    contact: str = ""  # how to reach the shop (phone, 旺旺 name…), may be empty
    language: str = DEFAULT_LANGUAGE


def _normalize_language(language: str) -> str:
    parts = [p for p in re.split(r"[-_]", (language or "").strip()) if p]
    if not parts:
        return DEFAULT_LANGUAGE
    out = [parts[0].lower()]
    for part in parts[1:]:
        out.append(part.upper() if len(part) == 2 else part.title() if len(part) == 4 else part)
    return "-".join(out)


def language_candidates(language: str) -> list[str]:
    """Folders tried for ``language``, in order: ``"zh_cn"`` → ``["zh-CN", "zh"]``, ``"en-US"`` → ``["en-US", "en", "zh-CN"]``."""
    exact = _normalize_language(language)
    base = exact.split("-")[0]
    out: list[str] = []
    for candidate in (exact, base, _BASE_DEFAULTS.get(base), DEFAULT_LANGUAGE):
        if candidate and candidate not in out:
            out.append(candidate)
    return out


def _clip(value: Any, length: int = 30) -> str:
    """Strip, drop trailing punctuation, cut to ``length`` characters (``…``, or ``...`` in GSM-7 text)."""
    text = " ".join(str(value or "").split()).rstrip("。．.，,；;！!")
    if len(text) <= length:
        return text
    ellipsis = "..." if encoding(text) == "GSM-7" else "…"  # "…" alone would make an SMS UCS-2
    return text[: length - len(ellipsis)].rstrip() + ellipsis


@lru_cache(maxsize=16)
def _environment(override_dir: str | None) -> jinja2.Environment:
    search = [override_dir, str(BUILTIN_DIR)] if override_dir else [str(BUILTIN_DIR)]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(search, encoding="utf-8"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain text, never HTML
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["clip"] = _clip
    return env


def _error_line(exc: BaseException, filename: str | None) -> int | None:
    tb, line = exc.__traceback__, None
    while tb is not None:
        if filename and tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _load(env: jinja2.Environment, kind: str, language: str) -> tuple[jinja2.Template, str]:
    for candidate in language_candidates(language):
        name = f"{candidate}/{kind}.j2"
        try:
            return env.get_template(name), candidate
        except jinja2.TemplateNotFound:
            continue
        except jinja2.TemplateSyntaxError as exc:
            where = exc.filename or name
            raise TemplateError(f"notice template {where}:{exc.lineno}: {exc.message}") from None
    raise TemplateError(f"no notice template for {kind!r} in {language_candidates(language)}")


_WS = re.compile(r"\s+")


def _is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def _collapse(text: str) -> str:
    """One line: whitespace runs become one space, none between two wide (CJK) characters."""
    text = _WS.sub(" ", text).strip()
    return "".join(
        "" if ch == " " and _is_wide(text[i - 1]) and _is_wide(text[i + 1]) else ch
        for i, ch in enumerate(text)
    )


def _signature(ctx: NoticeContext) -> str:
    def bare(text: str | None) -> str:
        return (text or "").strip().removeprefix("【").removesuffix("】").strip()

    sig = bare(ctx.signature) or bare(ctx.shop_name)
    if not sig:
        raise TemplateError("SMS needs a signature: set shop.sms_signature or shop.name")
    return sig


def _frame_sms(body: str, language: str, ctx: NoticeContext) -> str:
    base = language.split("-")[0]
    sig = _signature(ctx)
    body = _collapse(body)
    opt_out = _OPT_OUT.get(base, _OPT_OUT["en"])
    has_opt_out = _HAS_OPT_OUT.get(base, _HAS_OPT_OUT["en"])
    if base == "zh":
        # one 【…】 only: gateways read any other bracket pair as a second signature
        body = body.removeprefix(f"【{sig}】").lstrip().replace("【", "[").replace("】", "]")
        if not has_opt_out.search(body):
            body += opt_out
        return f"【{sig}】{body}"
    body = body.removeprefix(f"{sig}:").lstrip()
    if not has_opt_out.search(body):
        body = f"{body} {opt_out}"
    return f"{sig}: {body}"


def _frame_chat(body: str) -> str:
    lines = [line.rstrip() for line in body.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def render(
    kind: str,
    ctx: NoticeContext,
    *,
    channel_kind: str = "sms",
    override_dir: Path | None = None,
) -> str:
    """The final text of notice ``kind`` for ``ctx`` on a channel of ``channel_kind`` (``"sms"``/``"chat"``)."""
    if kind not in KINDS:
        raise ValueError(f"unknown notice kind {kind!r}; known: {', '.join(KINDS)}")
    if channel_kind not in CHANNEL_KINDS:
        raise ValueError(f"unknown channel kind {channel_kind!r}; known: {', '.join(CHANNEL_KINDS)}")
    env = _environment(str(Path(override_dir).resolve()) if override_dir is not None else None)
    template, language = _load(env, kind, ctx.language)
    variables = {f.name: getattr(ctx, f.name) for f in fields(ctx)}
    variables["channel_kind"] = channel_kind
    try:
        body = template.render(variables)
    except jinja2.TemplateError as exc:
        line = _error_line(exc, template.filename)
        where = f"{template.filename}:{line}" if line else str(template.filename)
        raise TemplateError(f"notice template {where}: {exc}") from None
    if channel_kind == "chat":
        return _frame_chat(body)
    return _frame_sms(body, language, ctx)


def available_languages(override_dir: Path | None = None) -> list[str]:
    """Languages with at least one notice template, built-in or in ``override_dir``."""
    found: set[str] = set()
    for root in (BUILTIN_DIR, Path(override_dir) if override_dir is not None else None):
        if root is None or not root.is_dir():
            continue
        for child in root.iterdir():
            if child.is_dir() and any(child.glob("*.j2")):
                found.add(child.name)
    return sorted(found)
