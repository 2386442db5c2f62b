"""Marketplace exports often mask buyer phones: such rows import without a phone, with one warning."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import select

from watcher.intake import import_csv
from watcher.store.db import Database
from watcher.store.models import Parcel


def test_masked_phones_are_kept_out_but_the_rows_are_imported(db: Database, tmp_path: Path) -> None:
    csv = tmp_path / "taobao.csv"
    csv.write_text("快递公司,运单号,手机号\n中通,75300000000011,138****5678\n韵达,43100000000012,13912345678\n"
                   "圆通,YT0000000000013,1381234\n", encoding="utf-8")
    report = import_csv(csv, db=db, shop_tz=ZoneInfo("Asia/Shanghai"), now=datetime.now(timezone.utc))
    assert report.added == 2 and [e.line for e in report.errors] == [4]  # a short number is still an error
    assert any("1 rows have a masked buyer_phone" in w for w in report.warnings)
    with db.session() as s:
        phones = {p.tracking_number: p.buyer_phone for p in s.exec(select(Parcel)).all()}
    assert phones == {"75300000000011": None, "43100000000012": "+8613912345678"}
