"""The local Twilio fake: segment counting like Twilio's, paging the SDK follows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.twilio import count_segments

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # extension characters cost two septets
        ("€" * 81, 2),
        ("包" * 70, 1),
        ("包" * 71, 2),
        ("包" * 134, 2),
        ("包" * 135, 3),
        ("a" * 159 + "包", 3),  # one UCS-2 character turns the whole message UCS-2
    ],
)
def test_count_segments(body: str, segments: int) -> None:
    assert count_segments(body) == segments


def test_process_mode_prints_port() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.twilio"], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("PORT ") and int(line.split()[1]) > 0
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
