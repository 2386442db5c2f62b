"""Shared helpers for the Kuaidi100 adapter tests: recorded payloads under ``fixtures/``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def load_payload(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def payload() -> Callable[[str], Any]:
    """``payload("zto_in_transit")`` -> the decoded recorded reply."""
    return load_payload
