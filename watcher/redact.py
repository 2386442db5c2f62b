"""Masking of personal data and secrets: one place every log line and report uses."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["mask_phone", "mask_name", "mask_text", "redact_secrets", "SECRET_KEYS"]

# Mainland mobiles (with or without +86 / 86 prefix) and E.164 numbers in free text.
_PHONE_RE = re.compile(r"(?<!\d)(\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")
_E164_RE = re.compile(r"(?<![\d*])\+(?!86)(\d{1,3})(\d{2,})(\d{4})(?!\d)")

SECRET_KEYS = frozenset(
    {"key", "token", "auth_token", "password", "secret", "sign", "signature", "api_key", "salt"}
)


def mask_phone(phone: str | None) -> str:
    """``13912345678`` → ``139****5678``; ``+8613912345678`` → ``+86139****5678``."""
    if not phone:
        return ""
    digits = re.sub(r"\D", "", phone)
    prefix = "+" if phone.strip().startswith("+") else ""
    if len(digits) < 7:
        return "*" * len(digits)
    if digits.startswith("86") and len(digits) == 13:
        return f"{prefix}86{digits[2:5]}****{digits[-4:]}"
    if len(digits) < 10:  # short or malformed numbers: hide the middle more
        return f"{prefix}{digits[:2]}{'*' * (len(digits) - 4)}{digits[-2:]}"
    return f"{prefix}{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_name(name: str | None) -> str:
    """``张三丰`` → ``张*``; ``Alice`` → ``A*``: the first character and one star, so the
    length of the name does not show either."""
    if not name:
        return ""
    name = name.strip()
    return name[0] + "*" if len(name) > 1 else "*"


def mask_text(text: str) -> str:
    """Mask every phone number found inside free text (checkpoint texts, errors)."""
    text = _PHONE_RE.sub(lambda m: f"{m.group(1) or ''}{m.group(2)}****{m.group(4)}", text)
    return _E164_RE.sub(lambda m: f"+{m.group(1)}{'*' * len(m.group(2))}{m.group(3)}", text)


def redact_secrets(mapping: dict[str, Any]) -> dict[str, Any]:
    """Copy of ``mapping`` with values of secret-looking keys replaced by ``****``."""
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        if key.lower() in SECRET_KEYS and value:
            out[key] = "****"
        elif isinstance(value, dict):
            out[key] = redact_secrets(value)
        else:
            out[key] = value
    return out
