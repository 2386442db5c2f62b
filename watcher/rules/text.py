"""One courier checkpoint text → one :class:`Event`.

Pure and cached: :func:`classify` reads nothing but its argument.  The cues are
data in ``keywords.toml`` beside this module; this code only compiles them into
a few regular expressions per rule at import and applies the documented
precedence:

1. The text is :func:`normalize`-d (NFKC, full-width → half-width, brackets and
   quotes dropped, spaces around Chinese removed, lower case, a few traditional
   characters mapped to simplified).
2. The ``[[rule]]`` tables are tried in file order; the first rule with a cue
   that *counts* gives the event.  File order is the precedence, highest first::

       returned > lost > damaged > refused > delay_stop > unreachable
       > address_problem > pickup_return_warning > returning
       > collected_explicit > delivered_in_hand > pickup_signed > pickup_point
       > delivered > failed_attempt > customs > delayed > undeliverable
       > pickup_hint > out_for_delivery > info > collected > transit

   (``undeliverable`` is the bare 无法派送, which the shop's ops team reads as
   "not served": every more specific reason above it wins.)

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

import enum
import html
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
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
_BOUNDARIES = ",.;!?。"
#: `%` in a pattern: one character of the same clause
_CLAUSE_CHAR = r"[^,.;!?。]"
_HAS_LATIN = re.compile(r"[a-z]")


def _is_latin(word: str) -> bool:
    """English (ASCII-only) cues are matched as whole words, and only in texts with Latin letters."""
    return word.isascii()


def _trie_regex(words: Iterable[str]) -> str:
    """One alternation for many literals, factored by common prefix (fast in ``re``).

    Longer keywords win over their prefixes ("已签收" over "已签"): a branch that can
    continue is tried before the one that stops.
    """
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        ends = "" in node
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    return build(trie)


class _Cues:
    """A rule's cues, split so that ``re`` can skip ahead quickly.

    Chinese keywords are one prefix-factored alternation and every pattern is its own
    regex (both then start with a literal, which lets ``re`` scan for its first
    character).  English keywords and patterns match whole words (``\\b``) and are
    only searched in texts that contain Latin letters at all.
    """

    __slots__ = ("native", "latin")

    def __init__(self, keywords: Iterable[str], patterns: Iterable[str]) -> None:
        kws = {k.casefold() for k in keywords}
        native_kw = sorted(k for k in kws if not _is_latin(k))
        latin_kw = sorted(k for k in kws if _is_latin(k))
        pats = list(patterns)
        self.native: tuple[re.Pattern[str], ...] = tuple(
            re.compile(x)
            for x in ([_trie_regex(native_kw)] if native_kw else [])
            + [_pattern(p) for p in pats if not _is_latin(p)]
        )
        latin = [rf"\b{_trie_regex(latin_kw)}\b"] if latin_kw else []
        latin += [rf"\b(?:{_pattern(p)})" for p in pats if _is_latin(p)]
        self.latin: re.Pattern[str] | None = re.compile("|".join(latin)) if latin else None

    def finditer(self, text: str, latin: bool) -> Iterator[re.Match[str]]:
        """Every cue occurrence, overlapping ones included (each start position once per regex)."""
        regexes = self.native + ((self.latin,) if latin and self.latin is not None else ())
        for rx in regexes:
            pos = 0
            while (m := rx.search(text, pos)) is not None:
                yield m
                pos = m.start() + 1

    def search(self, text: str) -> bool:
        return any(True for _ in self.finditer(text, _HAS_LATIN.search(text) is not None))


class _Affixes:
    """Short words tested at the end of the text before a cue or the start of the text after it."""

    __slots__ = ("words", "latin")

    def __init__(self, words: Iterable[str]) -> None:
        self.words = tuple(sorted({w.casefold() for w in words}, key=len, reverse=True))
        self.latin = frozenset(w for w in self.words if _is_latin(w))

    def ending(self, text: str) -> str | None:
        """The word ``text`` ends with (whole words only for English), or ``None``."""
        text = text.rstrip()
        if not text.endswith(self.words):  # the usual case, decided in C
            return None
        for w in self.words:
            if text.endswith(w) and not (w in self.latin and text[-len(w) - 1 : -len(w)].isalnum()):
                return w
        return None

    def starting(self, text: str) -> str | None:
        """The word ``text`` starts with (whole words only for English), or ``None``."""
        text = text.lstrip()
        if not text.startswith(self.words):
            return None
        for w in self.words:
            if text.startswith(w) and not (w in self.latin and text[len(w) : len(w) + 1].isalnum()):
                return w
        return None


@dataclass(frozen=True, slots=True)
class _Rule:
    name: str
    event: Event
    note: str
    cues: _Cues
    not_after: _Affixes  # words right before a cue that cancel it
    not_before: _Affixes  # words right after a cue that cancel it


@dataclass(frozen=True, slots=True)
class _Grammar:
    table: dict[int, str]  # str.translate table: dropped characters and character variants
    negators: _Affixes
    bridges: _Affixes
    negated_after: _Affixes
    hedge_clause: _Cues
    hedge_immediate: _Affixes
    condition: _Affixes
    consequence: _Cues
    rules: tuple[_Rule, ...]


def _pattern(source: str) -> str:
    return source.replace("%", _CLAUSE_CHAR)


_RULE_KEYS = frozenset({"name", "event", "note", "keywords", "patterns", "not_after", "not_before"})


def _compile(data: Mapping[str, Any]) -> _Grammar:
    """Check and compile the parsed ``keywords.toml``; malformed data raises ``ValueError``."""
    norm = data["normalize"]
    table = {ord(ch): " " for ch in norm["drop"]}
    for pair in norm["characters"].split():
        if len(pair) != 2:
            raise ValueError(f"keywords.toml: [normalize] characters: {pair!r} is not a pair")
        if pair[0] != pair[1]:
            table[ord(pair[0])] = pair[1]

    rules: list[_Rule] = []
    seen: set[str] = set()
    for raw in data["rule"]:
        name = raw["name"]
        if name in seen:
            raise ValueError(f"keywords.toml: rule {name!r} appears twice")
        seen.add(name)
        unknown = set(raw) - _RULE_KEYS
        if unknown:
            raise ValueError(f"keywords.toml: rule {name!r} has unknown keys {sorted(unknown)}")
        if not raw.get("keywords") and not raw.get("patterns"):
            raise ValueError(f"keywords.toml: rule {name!r} has no keywords or patterns")
        rules.append(
            _Rule(
                name=name,
                event=Event(raw["event"]),
                note=raw.get("note", ""),
                cues=_Cues(raw.get("keywords", ()), raw.get("patterns", ())),
                not_after=_Affixes(raw.get("not_after", ())),
                not_before=_Affixes(raw.get("not_before", ())),
            )
        )

    neg, hedge = data["negation"], data["hedge"]
    return _Grammar(
        table=table,
        negators=_Affixes(neg["before"]),
        bridges=_Affixes(neg["bridge"]),
        negated_after=_Affixes(neg["after"]),
        hedge_clause=_Cues(hedge["clause"], ()),
        hedge_immediate=_Affixes(hedge["immediate"]),
        condition=_Affixes(hedge["condition"]),
        consequence=_Cues(hedge["consequence"], ()),
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
    s = s.translate(_GRAMMAR.table)
    s = _SPACE_NEAR_CJK.sub("", s)
    s = _SPACES.sub(" ", s).strip()
    return s.casefold()


# --- classification ---------------------------------------------------------------------


def _negated_before(prefix: str) -> bool:
    """``prefix`` ends with a negator, possibly followed by up to two bridge words."""
    g = _GRAMMAR
    for _ in range(3):
        if g.negators.ending(prefix) is not None:
            return True
        bridge = g.bridges.ending(prefix)
        if bridge is None:
            return False
        prefix = prefix.rstrip()[: -len(bridge)]
    return False


def _clause_start(text: str, pos: int) -> int:
    """Index of the first character of the clause holding ``text[pos]``."""
    return max(text.rfind(ch, 0, pos) for ch in _BOUNDARIES) + 1


def _counts(text: str, m: re.Match[str], rule: _Rule) -> bool:
    """Whether the cue ``m`` counts (is neither negated nor hedged)."""
    g = _GRAMMAR
    start, end = m.span()
    clause_start = _clause_start(text, start)
    prefix = text[clause_start:start]
    suffix = text[end : end + 12]
    if suffix and (g.negated_after.starting(suffix) is not None or rule.not_before.starting(suffix) is not None):
        return False
    if not prefix:
        return True
    if _negated_before(prefix) or g.hedge_immediate.ending(prefix) is not None:
        return False
    if rule.not_after.ending(prefix) is not None:
        return False
    if g.hedge_clause.search(prefix):
        return False
    # "如您不在家，快件将放至驿站": a consequence of the condition in the clause before
    if clause_start and g.consequence.search(prefix):
        prev_start = _clause_start(text, clause_start - 1)
        if g.condition.starting(text[prev_start:clause_start]) is not None:
            return False
    return True


def _decide(text: str) -> tuple[_Rule, re.Match[str]] | None:
    """The deciding rule and cue of a normalized text, or ``None``."""
    latin = _HAS_LATIN.search(text) is not None
    for rule in _GRAMMAR.rules:
        for m in rule.cues.finditer(text, latin):
            if _counts(text, m, rule):
                return rule, m
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
