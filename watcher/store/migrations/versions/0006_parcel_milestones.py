"""parcel milestones (collected_at, delivered_at) for the courier scorecard

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 09:00:00

Backfilled from the milestones of each parcel's stored verdict, so the
scorecard covers parcels polled before this migration.
"""
import json
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa
import watcher.store.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

BATCH = 1000


def _when(milestones: dict, key: str) -> datetime | None:
    value = milestones.get(key)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def upgrade() -> None:
    with op.batch_alter_table('parcel', schema=None) as batch_op:
        batch_op.add_column(sa.Column('collected_at', watcher.store.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('delivered_at', watcher.store.types.UTCDateTime(), nullable=True))

    conn = op.get_bind()
    parcel = sa.table(
        'parcel', sa.column('id', sa.Integer()), sa.column('verdict', sa.Text()),
        sa.column('collected_at', watcher.store.types.UTCDateTime()),
        sa.column('delivered_at', watcher.store.types.UTCDateTime()),
    )
    rows = conn.execute(sa.select(parcel.c.id, parcel.c.verdict).where(parcel.c.verdict.is_not(None))).all()
    updates = []
    for pid, verdict in rows:
        try:
            milestones = (json.loads(verdict) or {}).get('milestones') or {}
        except (ValueError, AttributeError):
            continue
        if not isinstance(milestones, dict):
            continue
        collected, delivered = _when(milestones, 'collected_at'), _when(milestones, 'delivered_at')
        if collected or delivered:
            updates.append({'b_id': pid, 'b_collected': collected, 'b_delivered': delivered})
    stmt = (sa.update(parcel).where(parcel.c.id == sa.bindparam('b_id'))
            .values(collected_at=sa.bindparam('b_collected'), delivered_at=sa.bindparam('b_delivered')))
    for start in range(0, len(updates), BATCH):
        conn.execute(stmt, updates[start:start + BATCH])


def downgrade() -> None:
    with op.batch_alter_table('parcel', schema=None) as batch_op:
        batch_op.drop_column('delivered_at')
        batch_op.drop_column('collected_at')
