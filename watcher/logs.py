"""structlog configuration: configured once, at start-up.

JSON lines when stderr is not a terminal, a readable console rendering when it is;
ISO UTC timestamps; context variables merged first; every string value passes
through :func:`watcher.redact.mask_text` (phones) and secret-looking keys are
replaced by ``****``.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

from watcher.redact import SECRET_KEYS, mask_name, mask_text

__all__ = ["configure_logging", "redact_processor", "MaskingFilter"]

#: keys whose values are personal data and are masked wherever they appear
_PERSONAL_KEYS = frozenset({"buyer_phone", "phone", "to", "buyer_name", "name_of_buyer"})


def _redact_value(key: str, value: Any) -> Any:
    if key.lower() in SECRET_KEYS and value:
        return "****"
    if isinstance(value, str):
        if key in _PERSONAL_KEYS and key.endswith("name"):
            return mask_name(value)
        return mask_text(value)
    if isinstance(value, dict):
        return {k: _redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_redact_value(key, v) for v in value)
    return value


def redact_processor(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """Mask phone numbers in every value and hide secrets; runs before rendering."""
    return {k: (_redact_value(k, v) if k != "event" else mask_text(str(v))) for k, v in event_dict.items()}


def configure_logging(level: str = "info", *, json: bool | None = None, stream: Any = None) -> None:
    stream = stream or sys.stderr
    if json is None:
        json = not (hasattr(stream, "isatty") and stream.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_processor,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=stream.isatty() if hasattr(stream, "isatty") else False)
    )
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    # Libraries that log through stdlib logging (alembic, apscheduler): warnings only.
    logging.basicConfig(level=logging.WARNING, stream=stream, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("alembic", "apscheduler", "httpx", "httpcore", "apprise", "urllib3", "requests"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for leaky in ("apprise", "urllib3", "requests"):  # they may print a webhook URL with its token
        logger = logging.getLogger(leaky)
        if not any(isinstance(f, MaskingFilter) for f in logger.filters):
            logger.addFilter(MaskingFilter())


_URL_RE = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*)://[^\s'\"<>]+")


class MaskingFilter(logging.Filter):
    """For stdlib loggers of libraries: URLs reduced to their scheme, phone numbers masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = mask_text(_URL_RE.sub(lambda m: f"{m.group(1)}://***", message))
        record.args = ()
        return True
