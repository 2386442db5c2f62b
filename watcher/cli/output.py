"""Rendering for the CLI: rich tables on a terminal, plain aligned text otherwise, JSON on request."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from watcher.clock import local_minute

__all__ = ["emit_json", "console", "table", "local_time"]


def console(stream: Any = None) -> Console:
    stream = stream or sys.stdout
    tty = hasattr(stream, "isatty") and stream.isatty()
    return Console(file=stream, width=None if tty else 200, highlight=False, soft_wrap=not tty)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def emit_json(data: Any, stream: Any = None) -> None:
    stream = stream or sys.stdout
    json.dump(data, stream, ensure_ascii=False, indent=2, default=_default)
    stream.write("\n")


def local_time(value: datetime | None, tz: ZoneInfo) -> str:
    return local_minute(value, tz)


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str | None = None) -> Table:
    t = Table(title=title, show_lines=False, header_style="bold")
    for col in columns:
        t.add_column(col, overflow="fold")
    for row in rows:
        t.add_row(*("" if v is None else str(v) for v in row))
    return t
