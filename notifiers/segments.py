"""SMS segment counting (pure; no I/O).

An SMS body travels either as GSM-7 (GSM 03.38 basic character set, 7-bit
septets) or, as soon as one character falls outside that set, as UCS-2.

=========  ===========  ==================
encoding   one message  each part of many
=========  ===========  ==================
GSM-7      160 septets  153 septets
UCS-2      70 units     67 units
=========  ===========  ==================

Characters of the GSM-7 extension table (``^ { } \\ [ ~ ] | €`` and form feed)
are sent as escape + character and cost two septets.  UCS-2 lengths count
UTF-16 code units, so a character outside the Basic Multilingual Plane (most
emoji) costs two.  A multi-part message never splits an escape sequence or a
surrogate pair across parts; the counting here packs parts the same way.

Chinese text is always UCS-2: 70 characters fit one message, 134 fit two.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "Encoding",
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "LIMITS",
    "encoding",
    "length_units",
    "segments",
]

Encoding = Literal["GSM-7", "UCS-2"]

#: GSM 03.38 basic character set (the escape code 0x1B itself is not text)
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: GSM 03.38 extension table: each costs two septets (escape + character)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

#: (single-message limit, per-part limit) in length units
LIMITS: dict[str, tuple[int, int]] = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


def encoding(text: str) -> Encoding:
    """``"GSM-7"`` when every character is in the GSM 03.38 basic or extension set, else ``"UCS-2"``."""
    for char in text:
        if char not in GSM7_BASIC and char not in GSM7_EXTENSION:
            return "UCS-2"
    return "GSM-7"


def _unit_costs(text: str, enc: Encoding) -> list[int]:
    if enc == "GSM-7":
        return [2 if char in GSM7_EXTENSION else 1 for char in text]
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def length_units(text: str) -> int:
    """Length in the units the limits count: septets (GSM-7) or UTF-16 code units (UCS-2)."""
    return sum(_unit_costs(text, encoding(text)))


def segments(text: str) -> int:
    """How many SMS parts ``text`` is billed as; ``0`` for an empty body."""
    enc = encoding(text)
    costs = _unit_costs(text, enc)
    total = sum(costs)
    single, per_part = LIMITS[enc]
    if total == 0:
        return 0
    if total <= single:
        return 1
    # Pack greedily: an escape sequence or surrogate pair is never split across parts.
    parts, used = 1, 0
    for cost in costs:
        if used + cost > per_part:
            parts, used = parts + 1, 0
        used += cost
    return parts
