"""One courier checkpoint text → one :class:`Event`.

Pure and cached: :func:`classify` reads nothing but its argument.  The cues are
data in ``keywords.toml`` beside this module; this code only compiles them (one
regular expression per rule, at import) and applies the documented precedence:

1. The text is :func:`normalize`-d (NFKC, full-width → half-width, brackets and
   quotes dropped, spaces around Chinese removed, lower case, a few traditional
   characters mapped to simplified).
2. The ``[[rule]]`` tables are tried in file order; the first rule with a cue
   that *counts* gives the event.  File order is the precedence, highest first::

       returned > lost > damaged > refused > delay_stop > unreachable
       > address_problem > returning > collected_explicit > delivered_in_hand
       > pickup_signed > pickup_point > delivered > failed_attempt > customs
       > delayed > undeliverable (bare 无法派送) > pickup_hint > out_for_delivery
       > info > collected > transit

   In words: the return's end before anything; the cause of a problem before
   its consequence ("拒收，正在退回" is refused, "地址不详，将退回" an address
   problem); where the parcel is *now* before the history that led there
   ("电话无人接听，已放至驿站" waits at a pickup point); the buyer's own hands
   before the locker it came from ("签收人凭取件码签收" is delivered, "签收人：
   快递柜" a pickup point); progress words last.
3. A cue does not count when it is negated (a negator such as 未/不/无法/not
   right before it, or 失败/不成功/failed right after it: "未妥投", "签收失败",
   "Not delivered"), hedged (its clause holds a condition or advice: "如有破损请
   拒收", "以免丢失", "if not collected"), or touched by the rule's own
   ``not_after`` / ``not_before`` words ("即将派送" is not out for delivery).

No cue at all gives :attr:`Event.UNKNOWN` — never a guessed "in transit".
"""

from __future__ import annotations

import bisect
import enum
import html
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["Event", "classify", "normalize"]

KEYWORDS_FILE = Path(__file__).with_name("keywords.toml")


class Event(str, enum.Enum):
    """What one checkpoint text says happened."""

    INFO = "info"  # order information only: label printed, courier notified
    COLLECTED = "collected"  # the courier has the parcel
    TRANSIT = "transit"  # moving between hubs and outlets (incl. arrival at the delivery outlet)
    OUT_FOR_DELIVERY = "out_for_delivery"
    PICKUP_POINT = "pickup_point"  # waiting at a station or locker for the buyer
    DELIVERED = "delivered"
    FAILED_ATTEMPT = "failed_attempt"
    REFUSED = "refused"
    RETURNING = "returning"  # a return under way
    RETURNED = "returned"  # the return reached the sender
    DAMAGED = "damaged"
    ADDRESS_PROBLEM = "address_problem"
    UNREACHABLE = "unreachable"  # outside the courier's delivery area
    LOST = "lost"  # declared lost by the carrier
    CUSTOMS = "customs"
    DELAYED = "delayed"  # the courier announces a delay or a hold
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return self.value


# --- compiled data ----------------------------------------------------------------------

#: clause boundaries after normalization ("，" and "；" are "," and ";" by then)
_BOUNDARIES = frozenset(",.;!?。")
#: `%` in a pattern: one character of the same clause
_CLAUSE_CHAR = r"[^,.;!?。]"


@dataclass(frozen=True, slots=True)
class _Rule:
    name: str
    event: Event
    note: str
    cue: re.Pattern[str]
    not_after: re.Pattern[str] | None  # searched in the text right before a cue (anchored at its end)
    not_before: re.Pattern[str] | None  # matched on the text right after a cue


@dataclass(frozen=True, slots=True)
class _Grammar:
    drop: dict[int, str]
    characters: dict[int, str]
    negated_before: re.Pattern[str]
    negated_after: re.Pattern[str]
    hedge_clause: re.Pattern[str]
    hedge_immediate: re.Pattern[str]
    condition: re.Pattern[str]
    consequence: re.Pattern[str]
    rules: tuple[_Rule, ...]


def _literal(word: str) -> str:
    """A keyword as a regex: escaped; ASCII words and phrases match whole words only."""
    body = re.escape(word.casefold())
    if word[:1].isascii() and word[:1].isalnum():
        body = r"\b" + body
    if word[-1:].isascii() and word[-1:].isalnum():
        body = body + r"\b"
    return body


def _alternation(words: Iterable[str]) -> str:
    # longest first, so that the longer of two overlapping keywords is the one reported
    return "|".join(_literal(w) for w in sorted(set(words), key=len, reverse=True))


def _pattern(source: str) -> str:
    return source.replace("%", _CLAUSE_CHAR)


def _tail(words: Iterable[str], bridge: str = "") -> re.Pattern[str] | None:
    """Matches when the text *ends* with one of ``words`` (optionally followed by bridges)."""
    alt = _alternation(words)
    if not alt:
        return None
    return re.compile(rf"(?:{alt})\s*{bridge}$")


def _head(words: Iterable[str]) -> re.Pattern[str] | None:
    """Matches when the text *starts* with one of ``words``."""
    alt = _alternation(words)
    return re.compile(rf"\s*(?:{alt})") if alt else None


def _compile(data: Mapping[str, Any]) -> _Grammar:
    norm = data["normalize"]
    drop = {ord(ch): " " for ch in norm["drop"]}
    characters: dict[int, str] = {}
    for pair in norm["characters"].split():
        if len(pair) != 2:
            raise ValueError(f"keywords.toml: [normalize] characters: {pair!r} is not a pair")
        if pair[0] != pair[1]:
            characters[ord(pair[0])] = pair[1]

    neg = data["negation"]
    bridge = rf"(?:(?:{_alternation(neg['bridge'])})\s*){{0,2}}"
    hedge = data["hedge"]

    rules: list[_Rule] = []
    seen: set[str] = set()
    for raw in data["rule"]:
        name = raw["name"]
        if name in seen:
            raise ValueError(f"keywords.toml: rule {name!r} appears twice")
        seen.add(name)
        parts = [_alternation(raw.get("keywords", ()))] if raw.get("keywords") else []
        parts += [_pattern(p) for p in raw.get("patterns", ())]
        if not parts:
            raise ValueError(f"keywords.toml: rule {name!r} has no keywords or patterns")
        rules.append(
            _Rule(
                name=name,
                event=Event(raw["event"]),
                note=raw.get("note", ""),
                cue=re.compile("|".join(f"(?:{p})" for p in parts)),
                not_after=_tail(raw.get("not_after", ())),
                not_before=_head(raw.get("not_before", ())),
            )
        )

    negated_before = _tail(neg["before"], bridge)
    negated_after = _head(neg["after"])
    hedge_clause = re.compile(_alternation(hedge["clause"]))
    hedge_immediate = _tail(hedge["immediate"])
    condition = _head(hedge["condition"])
    consequence = re.compile(_alternation(hedge["consequence"]))
    assert negated_before and negated_after and hedge_immediate and condition
    return _Grammar(
        drop=drop,
        characters=characters,
        negated_before=negated_before,
        negated_after=negated_after,
        hedge_clause=hedge_clause,
        hedge_immediate=hedge_immediate,
        condition=condition,
        consequence=consequence,
        rules=tuple(rules),
    )


def _load(path: Path = KEYWORDS_FILE) -> _Grammar:
    with path.open("rb") as fh:
        return _compile(tomllib.load(fh))


_GRAMMAR = _load()


# --- normalization ----------------------------------------------------------------------

_TAG = re.compile(r"<[^<>]{0,40}>")
# whitespace touching a non-ASCII character (Chinese text, CJK punctuation) carries no meaning
_SPACE_NEAR_CJK = re.compile(r"\s+(?=[^\x00-\x7f])|(?<=[^\x00-\x7f])\s+")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=65536)
def normalize(text: str) -> str:
    """The form cues are matched against.

    NFKC (full-width letters, digits and punctuation become half-width: "，" → ",",
    "：" → ":"), HTML entities and tags removed, brackets and quotes (【】[]（）“”…)
    become spaces, spaces next to Chinese characters are removed and other runs of
    whitespace become one space, a few traditional characters become simplified
    (簽 → 签), and the result is lower-cased.
    """
    if not text:
        return ""
    s = text
    if "&" in s or "<" in s:
        s = _TAG.sub(" ", html.unescape(s))
    s = unicodedata.normalize("NFKC", s)
    s = s.translate(_GRAMMAR.drop).translate(_GRAMMAR.characters)
    s = _SPACE_NEAR_CJK.sub("", s)
    s = _SPACES.sub(" ", s).strip()
    return s.casefold()


# --- classification ---------------------------------------------------------------------


def _counts(text: str, start: int, end: int, rule: _Rule, bounds: list[int]) -> bool:
    """Whether the cue at ``text[start:end]`` counts (is neither negated nor hedged)."""
    g = _GRAMMAR
    i = bisect.bisect_left(bounds, start)
    clause_start = bounds[i - 1] + 1 if i else 0
    prefix = text[clause_start:start]
    suffix = text[end : end + 12]
    if g.negated_after.match(suffix):
        return False
    if rule.not_before is not None and rule.not_before.match(suffix):
        return False
    if prefix:
        if g.negated_before.search(prefix[-16:]) or g.hedge_immediate.search(prefix[-16:]):
            return False
        if rule.not_after is not None and rule.not_after.search(prefix[-16:]):
            return False
        if g.hedge_clause.search(prefix):
            return False
        # "如您不在家，快件将放至驿站": a consequence of the condition in the clause before
        if clause_start and g.consequence.search(prefix):
            prev_start = bounds[i - 2] + 1 if i >= 2 else 0
            if g.condition.match(text, prev_start, clause_start):
                return False
    return True


def _decide(text: str) -> tuple[_Rule, re.Match[str]] | None:
    """The deciding rule and cue of a normalized text, or ``None``."""
    bounds = [i for i, ch in enumerate(text) if ch in _BOUNDARIES]
    for rule in _GRAMMAR.rules:
        pos = 0
        while (m := rule.cue.search(text, pos)) is not None:
            if _counts(text, m.start(), m.end(), rule, bounds):
                return rule, m
            pos = m.start() + 1
    return None


@lru_cache(maxsize=65536)
def classify(text: str) -> Event:
    """The primary event of one checkpoint text (see the module docstring for precedence)."""
    found = _decide(normalize(text))
    return found[0].event if found is not None else Event.UNKNOWN


def _explain(text: str) -> tuple[str, str] | None:
    """``(rule name, cue)`` that decided ``text``, for tests and debugging."""
    found = _decide(normalize(text))
    return (found[0].name, found[1].group(0)) if found is not None else None
