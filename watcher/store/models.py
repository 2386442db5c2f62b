"""Tables.  Times are aware UTC in Python, naive UTC in the database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from watcher.store.types import UTCDateTime

__all__ = ["Parcel", "Checkpoint", "PollLog", "FlagEvent", "Notice", "OptOut", "ChatPresence", "Acknowledgement", "ReportRun", "FLAG_SEP", "NOTICE_STATES", "split_flags"]

#: flags are stored as ",stalled,unreachable," so that one LIKE finds a flag portably
FLAG_SEP = ","


def _ts(nullable: bool = True, index: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(UTCDateTime(), nullable=nullable, index=index)


class Parcel(SQLModel, table=True):
    __tablename__ = "parcel"
    __table_args__ = (
        UniqueConstraint("courier", "tracking_number", name="uq_parcel_courier_number"),
        # due-parcel selection: WHERE next_poll_at <= now ORDER BY next_poll_at
        Index("ix_parcel_next_poll_at", "next_poll_at"),
        Index("ix_parcel_status", "status"),
        Index("ix_parcel_tracking_number", "tracking_number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    courier: str = Field(max_length=40)
    tracking_number: str = Field(max_length=64)
    order_id: str | None = Field(default=None, max_length=128)
    buyer_name: str | None = Field(default=None, max_length=128)
    buyer_phone: str | None = Field(default=None, max_length=32)  # E.164
    buyer_chat_id: str | None = Field(default=None, max_length=128)
    province: str | None = Field(default=None, max_length=64)
    city: str | None = Field(default=None, max_length=64)
    district: str | None = Field(default=None, max_length=64)
    address: str | None = Field(default=None, sa_type=Text)
    language: str | None = Field(default=None, max_length=16)
    shipped_at: datetime | None = Field(default=None, sa_column=_ts())
    created_at: datetime = Field(sa_column=_ts(nullable=False))
    updated_at: datetime = Field(sa_column=_ts(nullable=False))

    status: str = Field(default="pending", max_length=32)
    status_changed_at: datetime | None = Field(default=None, sa_column=_ts())
    flags: str = Field(default="", max_length=200)
    verdict: str | None = Field(default=None, sa_type=Text)  # JSON from rules
    provider: str | None = Field(default=None, max_length=40)  # who answered last
    provider_state: str | None = Field(default=None, max_length=32)  # provider's raw code
    problem: str | None = Field(default=None, max_length=200)  # per-number problem, e.g. not_found

    last_checkpoint_at: datetime | None = Field(default=None, sa_column=_ts())
    last_checkpoint_text: str | None = Field(default=None, sa_type=Text)
    last_checkpoint_location: str | None = Field(default=None, max_length=200)
    #: milestones from the verdict, kept as columns for the courier scorecard
    collected_at: datetime | None = Field(default=None, sa_column=_ts())
    delivered_at: datetime | None = Field(default=None, sa_column=_ts())

    last_queried_at: datetime | None = Field(default=None, sa_column=_ts())  # last request sent
    last_polled_at: datetime | None = Field(default=None, sa_column=_ts())  # last answer received
    last_poll_error: str | None = Field(default=None, max_length=300)
    poll_failures: int = Field(default=0)
    next_poll_at: datetime | None = Field(default=None, sa_column=_ts())  # NULL: no more polling
    lease_owner: str | None = Field(default=None, max_length=80)
    lease_until: datetime | None = Field(default=None, sa_column=_ts())

    def flag_list(self) -> list[str]:
        return split_flags(self.flags)


def split_flags(value: str | None) -> list[str]:
    """The flag names of a stored ``flags`` value (``",stalled,"`` → ``["stalled"]``)."""
    return [f for f in (value or "").split(FLAG_SEP) if f]


class Checkpoint(SQLModel, table=True):
    __tablename__ = "checkpoint"
    __table_args__ = (
        UniqueConstraint("parcel_id", "content_hash", name="uq_checkpoint_parcel_hash"),
        Index("ix_checkpoint_parcel_time", "parcel_id", "time"),
    )

    id: int | None = Field(default=None, primary_key=True)
    parcel_id: int = Field(foreign_key="parcel.id", ondelete="CASCADE")
    time: datetime = Field(sa_column=_ts(nullable=False))
    location: str = Field(default="", max_length=200)
    text: str = Field(sa_type=Text)
    raw_code: str = Field(default="", max_length=32)
    status: str | None = Field(default=None, max_length=32)
    provider: str = Field(max_length=40)
    content_hash: str = Field(max_length=40)
    recorded_at: datetime = Field(sa_column=_ts(nullable=False))


class PollLog(SQLModel, table=True):
    """One row per provider per poll cycle: provider health over time."""

    __tablename__ = "poll_log"
    __table_args__ = (Index("ix_poll_log_provider_started", "provider", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=40)
    owner: str = Field(max_length=80)
    started_at: datetime = Field(sa_column=_ts(nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=_ts())
    requests: int = 0
    parcels: int = 0
    updated: int = 0
    problems: int = 0
    failed: int = 0
    error: str | None = Field(default=None, max_length=300)


class FlagEvent(SQLModel, table=True):
    """Flag history: one row per flag episode, closed when the flag clears."""

    __tablename__ = "flag_event"
    __table_args__ = (
        Index("ix_flag_event_parcel", "parcel_id", "raised_at"),
        Index("ix_flag_event_open", "flag", "cleared_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    parcel_id: int = Field(foreign_key="parcel.id", ondelete="CASCADE")
    flag: str = Field(max_length=20)
    code: str = Field(max_length=40)
    reason: str = Field(sa_type=Text)
    since: datetime = Field(sa_column=_ts(nullable=False))  # when the condition started
    raised_at: datetime = Field(sa_column=_ts(nullable=False))  # when we noticed
    cleared_at: datetime | None = Field(default=None, sa_column=_ts())
    level: int = 0


#: outbox states; "sending" is written before the provider is called, so a crash leaves
#: a row to reconcile instead of a notice sent twice or lost
NOTICE_STATES = ("queued", "deferred", "sending", "sent", "delivered", "failed", "suppressed")


class Notice(SQLModel, table=True):
    """The outbox: one row per notice, created once (unique idempotency key), then dispatched."""

    __tablename__ = "notice"
    __table_args__ = (
        UniqueConstraint("idempotency_key", name="uq_notice_key"),
        Index("ix_notice_due", "state", "not_before"),
        Index("ix_notice_parcel", "parcel_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    parcel_id: int = Field(foreign_key="parcel.id", ondelete="CASCADE")
    kind: str = Field(max_length=20)
    idempotency_key: str = Field(max_length=160)
    state: str = Field(default="queued", max_length=12)
    channel: str | None = Field(default=None, max_length=20)  # chosen at send time
    language: str | None = Field(default=None, max_length=16)
    body: str | None = Field(default=None, sa_type=Text)  # rendered when sent
    reason: str | None = Field(default=None, max_length=300)  # why it was planned (or suppressed)
    created_at: datetime = Field(sa_column=_ts(nullable=False))
    not_before: datetime = Field(sa_column=_ts(nullable=False))  # quiet hours and retries move it
    attempts: int = 0
    claim_token: str | None = Field(default=None, max_length=80)  # the dispatcher that moved it to "sending"
    last_attempt_at: datetime | None = Field(default=None, sa_column=_ts())
    sent_at: datetime | None = Field(default=None, sa_column=_ts())
    delivered_at: datetime | None = Field(default=None, sa_column=_ts())
    provider_message_id: str | None = Field(default=None, max_length=64)
    error: str | None = Field(default=None, max_length=300)
    #: channels that accepted this notice and later reported it undelivered (comma-separated):
    #: the dispatcher does not use them again for it
    skip_channels: str | None = Field(default=None, max_length=100)


class OptOut(SQLModel, table=True):
    """A buyer who asked for no more messages on a channel (STOP/退订/TD, Twilio 21610): for good."""

    __tablename__ = "opt_out"
    __table_args__ = (UniqueConstraint("channel", "address", name="uq_opt_out"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    address: str = Field(max_length=128)  # E.164 phone or chat id
    source: str = Field(max_length=40)  # inbound_stop, twilio_21610 …
    created_at: datetime = Field(sa_column=_ts(nullable=False))


class ChatPresence(SQLModel, table=True):
    """Whether a buyer is reachable on the shop's chat right now, as the chat bridge last said."""

    __tablename__ = "chat_presence"

    chat_id: str = Field(primary_key=True, max_length=128)
    online: bool = False
    updated_at: datetime = Field(sa_column=_ts(nullable=False))


class Acknowledgement(SQLModel, table=True):
    """Ops note that a flagged parcel is being handled (``parcelwatch ack``).

    It covers one flag episode at the level it had: the parcel is "in hand" in the
    stall report until that flag clears, is raised again, or escalates past ``level``."""

    __tablename__ = "acknowledgement"
    __table_args__ = (Index("ix_acknowledgement_parcel", "parcel_id", "flag", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    parcel_id: int = Field(foreign_key="parcel.id", ondelete="CASCADE")
    flag: str = Field(max_length=20)
    level: int = 0  # the flag's escalation level when acknowledged
    note: str = Field(sa_type=Text)
    by: str = Field(default="", max_length=80)
    created_at: datetime = Field(sa_column=_ts(nullable=False))


class ReportRun(SQLModel, table=True):
    """One row per stall report generated for "now": the stall report's "new since the last report"."""

    __tablename__ = "report_run"
    __table_args__ = (Index("ix_report_run_generated_at", "generated_at"),)

    id: int | None = Field(default=None, primary_key=True)
    generated_at: datetime = Field(sa_column=_ts(nullable=False))
    format: str = Field(max_length=10)
    entries: int = 0
