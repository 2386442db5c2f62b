"""Settings: a TOML file overlaid with ``PARCELWATCH_SECTION__KEY`` environment variables.

Settings objects are immutable.  Unknown keys and bad values raise
:class:`~watcher.errors.ConfigError` naming the key (``tracking.concurrency: …``).
Secret fields are ``SecretStr`` and print as ``**********``.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from datetime import time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from watcher.errors import ConfigError
from watcher.redact import redact_secrets

__all__ = [
    "Settings",
    "ShopSettings",
    "DatabaseSettings",
    "TrackingSettings",
    "DetectionSettings",
    "NoticesSettings",
    "TwilioSettings",
    "ChatSettings",
    "ServeSettings",
    "ReportSettings",
    "NOTICE_KINDS",
    "load_settings",
    "parse_hhmm",
    "describe_validation_error",
    "resolve_config_path",
    "ENV_PREFIX",
]

ENV_PREFIX = "PARCELWATCH_"
#: environment variables with our prefix that are not settings
_NOT_SETTINGS = {"PARCELWATCH_CONFIG"}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_hhmm(value: str) -> time:
    """``"21:30"`` (or ``"9:05"``) → a time; ValueError otherwise.  Settings are validated with it,
    so code reading a validated ``HH:MM`` value parses it here too."""
    m = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value.strip())
    if not m:
        raise ValueError(f"expected HH:MM, got {value!r}")
    return time(int(m.group(1)), int(m.group(2)))


class ShopSettings(_Section):
    name: str = "parcelwatch"
    sms_signature: str = ""
    timezone: str = "Asia/Shanghai"
    language: str = "zh-CN"

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def signature(self) -> str:
        return self.sms_signature or self.name


class DatabaseSettings(_Section):
    url: str = "sqlite:///parcelwatch.db"
    #: days after a parcel is delivered or returned that its buyer's name, phone, chat id,
    #: address and notice texts are kept (watcher.store.retention); 0 keeps them forever
    retention_days: int = Field(default=90, ge=0)


class TrackingSettings(_Section):
    provider: str = "kuaidi100"
    routes: dict[str, str] = Field(default_factory=dict)
    #: seconds between poll cycles of the daemon (each cycle polls only the parcels that are due)
    cycle_seconds: int = Field(default=60, ge=1)
    #: minutes between polls of a moving parcel (the provider's own minimum still applies)
    poll_minutes: int = Field(default=120, ge=1)
    #: parcels claimed per lease, and requests in flight per provider at most
    claim_size: int = Field(default=500, ge=1)
    concurrency: int = Field(default=8, ge=1, le=256)
    #: how long a poller holds a claimed parcel before another may take it
    lease_minutes: int = Field(default=10, ge=1)
    #: attempts per request on transient provider trouble before giving up for this cycle
    max_attempts: int = Field(default=3, ge=1, le=10)
    #: first backoff in seconds (doubles each attempt)
    backoff_seconds: float = Field(default=1.0, ge=0)


class DetectionSettings(_Section):
    """Stall thresholds and what extends them (see README, "Detection")."""

    #: no collection scan this long after shipped_at (or after import, without shipped_at)
    not_collected_hours: float = Field(default=24, gt=0)
    #: in transit without a new checkpoint
    transit_hours: float = Field(default=48, gt=0)
    #: in the buyer's city or out for delivery without a new checkpoint
    city_hours: float = Field(default=24, gt=0)
    #: extra time for remote destinations (Xinjiang, Tibet, Qinghai, …; see watcher/rules/remote.toml)
    remote_extra_hours: float = Field(default=24, ge=0)
    #: a stall this long (days without a checkpoint) escalates to "probably lost: open a claim"
    lost_after_days: float = Field(default=5, gt=0)
    #: official public holidays extend thresholds by the hours they cover
    holidays: bool = True
    #: peak sale periods that extend thresholds, "MM-DD..MM-DD" (inclusive)
    peaks: list[str] = Field(default_factory=lambda: ["11-11..11-15", "12-12..12-14", "06-18..06-20"])
    #: areas a courier is known not to serve: { zhongtong = ["西藏自治区", "新疆维吾尔自治区/喀什地区"] }
    unreachable_areas: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("peaks")
    @classmethod
    def _peaks(cls, value: list[str]) -> list[str]:
        from watcher.rules.calendar import PeakPeriod

        for text in value:
            PeakPeriod.parse(text)
        return value


NOTICE_KINDS = ("dispatch", "arrived_city", "delay", "unreachable", "follow_up")


class NoticesSettings(_Section):
    quiet_hours: str = "21:00-08:00"
    channels: list[str] = Field(default_factory=lambda: ["chat", "sms"])
    #: notice kinds to send; remove one to switch it off
    kinds: list[str] = Field(default_factory=lambda: list(NOTICE_KINDS))
    #: at most this many notices per buyer per shop-local day
    daily_cap: int = Field(default=3, ge=1)
    #: shop-local time of the daily follow-up on an open stall, unreachable or exception case
    follow_up_at: str = "10:00"
    #: follow-ups per case at most
    follow_up_max: int = Field(default=3, ge=0)
    #: delivery attempts per notice on retryable errors before it is marked failed
    max_attempts: int = Field(default=5, ge=1, le=20)
    #: folder with the shop's own templates, <language>/<kind>.j2 (e.g. "config/templates"); "" = built-ins only
    templates_dir: str = ""
    #: `run`: seconds between passes over the outbox
    dispatch_seconds: int = Field(default=30, ge=1)
    #: a notice left in "sending" this long was interrupted (crash, kill): reconcile it with the provider
    reconcile_after_seconds: int = Field(default=120, ge=1)

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(NOTICE_KINDS))
        if unknown:
            raise ValueError(f"unknown notice kinds {unknown}; known: {list(NOTICE_KINDS)}")
        return value

    @field_validator("follow_up_at")
    @classmethod
    def _follow_up_at(cls, value: str) -> str:
        parse_hhmm(value)
        return value.strip()

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: str) -> str:
        if value.strip():
            parts = value.split("-")
            if len(parts) != 2:
                raise ValueError(f"expected HH:MM-HH:MM or \"\", got {value!r}")
            for part in parts:
                parse_hhmm(part)
        return value.strip()


class TwilioSettings(_Section):
    account_sid: str = ""
    auth_token: SecretStr = SecretStr("")
    from_number: str = ""
    messaging_service_sid: str = ""
    whatsapp_from: str = ""
    #: notice kind → approved WhatsApp template Content SID ("HX…"), used outside the 24-hour window;
    #: excluded from model_dump so the SMS channel's settings never see it (the whatsapp channel reads it)
    whatsapp_templates: dict[str, str] = Field(default_factory=dict, exclude=True)
    base_url: str = "https://api.twilio.com"
    status_callback_url: str = ""  # where Twilio reports delivered/undelivered (`serve`'s /twilio/status)
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)


class ChatSettings(_Section):
    """The shop's own chat bridge (Qianniu/WeCom/… integration) for the ``chat`` channel."""

    url: str = ""  # "" disables the chat channel
    secret: SecretStr = SecretStr("")  # HMAC key shared with the bridge
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)


class ServeSettings(_Section):
    """``parcelwatch serve``: the HTTP receivers (Twilio callbacks, chat presence, /healthz, /metrics)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)  # 0: any free port (tests)
    #: the externally visible base URL Twilio signs against, e.g. "https://shop.example.com/parcelwatch";
    #: "" uses http://<Host header> (only right when nothing rewrites the URL in between)
    public_url: str = ""

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(f"expected an http(s):// URL or \"\", got {value!r}")
        return value.rstrip("/")


class ReportSettings(_Section):
    at: str = "21:30"
    #: the words of the text and HTML report and of the ops-chat summary: "en" or "zh-CN"
    #: (JSON and CSV keep their English keys)
    language: Literal["en", "zh-CN"] = "en"
    output_dir: str = "reports"
    #: apprise URLs (ops chat, mailbox); they carry tokens, so they are secrets
    notify: list[SecretStr] = Field(default_factory=list)
    #: where output_dir is served on the web, if it is: the chat summary then links the files
    link_base: str = ""
    #: the report's call list shows courier/outlet numbers in full (they come from checkpoint
    #: texts); false masks them like every other phone number
    unmask_call_list: bool = True
    #: the "buyers to phone" list shows buyers' numbers in full; by default they are masked
    #: like everywhere else and staff look the order up in the shop's back office
    unmask_buyer_phones: bool = False
    #: courier scorecard: parcels shipped in the last N days
    scorecard_days: int = Field(default=30, ge=1, le=366)
    #: a courier's per-province line needs at least this many parcels there
    scorecard_min_parcels: int = Field(default=20, ge=1)

    @field_validator("at")
    @classmethod
    def _at(cls, value: str) -> str:
        if value.strip():  # "": no nightly report from `run` (e.g. cron runs `report --send`)
            parse_hhmm(value)
        return value.strip()


class Settings(_Section):
    shop: ShopSettings = Field(default_factory=ShopSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    tracking: TrackingSettings = Field(default_factory=TrackingSettings)
    #: ``[providers.<adapter>]`` tables; each adapter validates its own
    providers: dict[str, dict[str, Any]] = Field(default_factory=dict)
    detection: DetectionSettings = Field(default_factory=DetectionSettings)
    notices: NoticesSettings = Field(default_factory=NoticesSettings)
    twilio: TwilioSettings = Field(default_factory=TwilioSettings)
    chat: ChatSettings = Field(default_factory=ChatSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)

    def __repr__(self) -> str:  # provider tables hold keys and tokens: never print them
        return f"Settings({redact_secrets(self.model_dump(mode='json'))})"

    __str__ = __repr__

    def provider_for(self, courier: str) -> str:
        return self.tracking.routes.get(courier, self.tracking.provider)

    def provider_settings(self, name: str) -> dict[str, Any]:
        return dict(self.providers.get(name, {}))


def _env_value(raw: str) -> Any:
    text = raw.strip()
    if text[:1] in "[{":
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return raw
    return raw


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """``PARCELWATCH_TRACKING__PROVIDER=x`` → ``{"tracking": {"provider": "x"}}``."""
    tree: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.upper().startswith(ENV_PREFIX) or name.upper() in _NOT_SETTINGS:
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX):].split("__")]
        if not all(path):
            raise ConfigError(f"environment variable {name}: empty key segment")
        node = tree
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"environment variable {name}: conflicts with another variable")
            node = child
        node[path[-1]] = _env_value(raw)
    return tree


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def describe_validation_error(exc: ValidationError, prefix: str = "") -> str:
    """One line naming the first bad key: ``tracking.concurrency: Input should be …``."""
    first = exc.errors()[0]
    key = ".".join([prefix, *(str(p) for p in first["loc"])] if prefix else [str(p) for p in first["loc"]])
    msg = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{key}: {msg}{more}"


def resolve_config_path(explicit: str | os.PathLike[str] | None, environ: Mapping[str, str]) -> Path | None:
    """``--config`` wins, then ``PARCELWATCH_CONFIG``, then ``./parcelwatch.toml`` if present."""
    if explicit:
        return Path(explicit)
    if environ.get("PARCELWATCH_CONFIG"):
        return Path(environ["PARCELWATCH_CONFIG"])
    default = Path("parcelwatch.toml")
    return default if default.exists() else None


def load_settings(
    path: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read settings from ``path`` (or the default location), the environment, then ``overrides``."""
    environ = os.environ if environ is None else environ
    config_path = resolve_config_path(path, environ)
    data: dict[str, Any] = {}
    source = "built-in defaults"
    if config_path is not None:
        source = str(config_path)
        try:
            data = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {config_path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read config file {config_path}: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config_path}: invalid TOML: {exc}") from None
    env = _env_overrides(environ)
    if env:
        data = _deep_merge(data, env)
        source = f"{source} + environment"
    if overrides:
        data = _deep_merge(data, overrides)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {describe_validation_error(exc)}") from None
