"""Courier codes and their aliases (data in ``couriers.toml``)."""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

__all__ = ["Courier", "couriers", "resolve_courier", "UnknownCourier", "normalize_alias"]


@dataclass(frozen=True, slots=True)
class Courier:
    code: str
    zh: str
    en: str
    aliases: tuple[str, ...]
    needs_phone: bool = False

    def display(self, language: str = "zh-CN") -> str:
        return self.zh if language.lower().startswith("zh") else self.en


class UnknownCourier(ValueError):
    def __init__(self, text: str) -> None:
        known = ", ".join(sorted(couriers()))
        super().__init__(
            f"unknown courier {text!r}; known codes: {known} "
            "(Chinese and English names such as 中通, 顺丰, ZTO, SF, J&T also work)"
        )
        self.text = text


def normalize_alias(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


@lru_cache(maxsize=1)
def couriers() -> dict[str, Courier]:
    data = tomllib.loads(files("carriers").joinpath("couriers.toml").read_text(encoding="utf-8"))
    return {
        code: Courier(
            code=code,
            zh=entry["zh"],
            en=entry["en"],
            aliases=tuple(entry.get("aliases", ())),
            needs_phone=bool(entry.get("needs_phone", False)),
        )
        for code, entry in data.items()
    }


@lru_cache(maxsize=1)
def _alias_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for code, courier in couriers().items():
        for alias in (code, courier.zh, courier.en, *courier.aliases):
            index.setdefault(normalize_alias(alias), code)
    return index


def resolve_courier(text: str) -> str:
    """Canonical code for a code or alias (``中通`` → ``zhongtong``); raises :class:`UnknownCourier`."""
    code = _alias_index().get(normalize_alias(text or ""))
    if code is None:
        raise UnknownCourier(text)
    return code
