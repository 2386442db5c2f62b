"""Parcel intake: bulk CSV import and single-parcel add.

::

    read_csv (decode, map headers) ─► validate_row (pure) ─► merge_duplicates
        ─► complete_regions (cpca, one bulk call) ─► save_parcels (chunked upsert)

Bad rows become :class:`RowError` values and are never saved; good rows are saved
even when other rows are bad.  Whole-file problems (undecodable, missing required
column) raise :class:`watcher.errors.InputError` and nothing is imported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path

import structlog

from watcher.errors import InputError
from watcher.intake.address import complete_regions
from watcher.intake.csvfile import COLUMNS, read_csv
from watcher.intake.rows import MASKED_PHONE_RE, ParcelInput, RowError, merge_duplicates, validate_row
from watcher.intake.save import SaveSummary, save_parcels
from watcher.store.db import Database

__all__ = [
    "COLUMNS",
    "ImportReport",
    "ParcelInput",
    "RowError",
    "SaveSummary",
    "add_parcel",
    "import_csv",
]

log = structlog.get_logger("parcelwatch.intake")

#: how many rows between two progress calls while validating
PROGRESS_EVERY = 1000


@dataclass(slots=True)
class ImportReport:
    """What one CSV import did.  ``rows`` counts non-blank data rows."""

    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates_skipped: int = 0

    @property
    def imported(self) -> int:
        """Rows that are now in the store (added, updated or already there)."""
        return self.added + self.updated + self.unchanged


def _check_now(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")


def import_csv(
    path: str | Path,
    *,
    db: Database,
    shop_tz: tzinfo,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import every good row of a CSV file; see the module docstring.

    ``progress(done, total)`` counts work units: each row once when validated and
    once when saved, so ``total`` is twice the number of rows.
    """
    _check_now(now)
    table = read_csv(path)
    report = ImportReport(warnings=list(table.warnings), rows=len(table.records))
    total = 2 * report.rows
    done = 0

    def tick(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress(done, total)

    if progress is not None:
        progress(0, total)
    good: list[tuple[int, ParcelInput]] = []
    masked = 0
    for index, record in enumerate(table.records, start=1):
        masked += bool(MASKED_PHONE_RE.fullmatch((record.values.get("buyer_phone") or "").strip()))
        result = validate_row(record.values, line=record.line, shop_tz=shop_tz, now=now)
        if isinstance(result, RowError):
            report.errors.append(result)
        else:
            good.append((record.line, result))
        if index % PROGRESS_EVERY == 0:
            tick(PROGRESS_EVERY)
    tick(report.rows % PROGRESS_EVERY)
    if masked:
        report.warnings.append(
            f"{masked} rows have a masked buyer_phone (such as 138****5678): imported without a phone; "
            "export the full numbers to let SF/ZTO traces and SMS notices work"
        )

    kept, duplicate_errors, report.duplicates_skipped = merge_duplicates(good)
    report.errors.extend(duplicate_errors)
    report.errors.sort(key=lambda e: e.line)
    # rows that will not be saved (refused, merged duplicates) are done already
    tick(report.rows - len(kept))

    parcels = complete_regions([parcel for _, parcel in kept])
    summary = save_parcels(db, parcels, now=now, progress=tick)
    report.added, report.updated, report.unchanged = summary.added, summary.updated, summary.unchanged
    log.info(
        "intake.imported",
        file=Path(path).name,
        rows=report.rows,
        added=report.added,
        updated=report.updated,
        unchanged=report.unchanged,
        duplicates_skipped=report.duplicates_skipped,
        errors=len(report.errors),
    )
    return report


def add_parcel(
    fields: Mapping[str, str | None], *, db: Database, shop_tz: tzinfo, now: datetime
) -> tuple[ParcelInput, SaveSummary]:
    """Add (or update) one parcel from column values; raises ``InputError("column: reason")``."""
    _check_now(now)
    unknown = sorted(set(fields) - set(COLUMNS))
    if unknown:
        raise InputError(f"unknown field {', '.join(unknown)}; known: {', '.join(COLUMNS)}")
    result = validate_row(fields, line=0, shop_tz=shop_tz, now=now)
    if isinstance(result, RowError):
        raise InputError(f"{result.column}: {result.reason}")
    (parcel,) = complete_regions([result])
    summary = save_parcels(db, [parcel], now=now)
    log.info(
        "intake.added",
        courier=parcel.courier,
        tracking_number=parcel.tracking_number,
        added=summary.added,
        updated=summary.updated,
    )
    return parcel, summary
