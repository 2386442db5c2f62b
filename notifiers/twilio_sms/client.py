"""The only module of the Twilio channel that does I/O: the official SDK, pointed at ``base_url``.

The SDK builds absolute URLs on ``https://api.twilio.com`` (``ApiBase``); its supported
extension point is the ``http_client`` argument of :class:`twilio.rest.Client`.
:class:`BaseUrlHttpClient` is a :class:`~twilio.http.http_client.TwilioHttpClient` that
rewrites that origin to the configured ``base_url`` (a local fake, a proxy) and logs
nothing: the SDK's own request logging prints query strings and bodies with phone numbers.

Calls are synchronous (the SDK is); the channel runs them in a worker thread.  SDK and
``requests`` exceptions are converted here into the channel error tree.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

from notifiers.twilio_sms.errors import ChannelAmbiguous, to_channel_error
from watcher.clock import utc
from watcher.errors import ChannelError, ChannelRetryable, ConfigError
from watcher.redact import mask_text

__all__ = ["TWILIO_ORIGIN", "BaseUrlHttpClient", "TwilioClient", "message_record", "section_options", "require_settings", "client_for"]

TWILIO_ORIGIN = "https://api.twilio.com"
_QUIET = logging.getLogger("parcelwatch.twilio_sdk")  # never used to log: see log_request below


class BaseUrlHttpClient(TwilioHttpClient):
    """A TwilioHttpClient sending ``https://api.twilio.com/...`` requests to ``base_url`` instead."""

    def __init__(self, base_url: str, *, timeout: float) -> None:
        super().__init__(timeout=timeout, logger=_QUIET, max_retries=0)
        self.base_url = base_url.rstrip("/")
        # ``max_retries`` above is mounted for https:// only; plain http (local fakes) gets the
        # same: a POST must never be re-sent by the transport (no idempotency key at Twilio).
        if self.session is not None:
            self.session.mount("http://", requests.adapters.HTTPAdapter(max_retries=0))

    def rewrite(self, url: str) -> str:
        if url == TWILIO_ORIGIN or url.startswith(TWILIO_ORIGIN + "/"):
            return self.base_url + url[len(TWILIO_ORIGIN):]
        return url

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:  # type: ignore[override]
        return super().request(method, self.rewrite(url), *args, **kwargs)

    def log_request(self, kwargs: dict[str, Any]) -> None:  # query strings carry phone numbers
        pass

    def log_response(self, status_code: int, response: Any) -> None:  # bodies carry phone numbers
        pass

    def close(self) -> None:
        if self.session is not None:
            self.session.close()


def message_record(message: Any) -> dict[str, Any]:
    """The fields of a Twilio ``MessageInstance`` the dispatcher needs, as a plain dict."""
    return {
        "sid": message.sid,
        "to": message.to,
        "from": message.from_,
        "messaging_service_sid": message.messaging_service_sid,
        "body": message.body,
        "status": str(message.status) if message.status is not None else None,
        "num_segments": int(message.num_segments or 1),
        "error_code": message.error_code,
        "date_created": message.date_created,
        "date_sent": message.date_sent,
    }


class TwilioClient:
    """Create and list messages of one account through the SDK (blocking calls)."""

    def __init__(self, account_sid: str, auth_token: str, *, base_url: str, timeout: float, channel: str = "sms") -> None:
        self.channel = channel
        self.http_client = BaseUrlHttpClient(base_url, timeout=timeout)
        # ``environment`` must not be empty (the SDK falls back to os.environ): TWILIO_EDGE or
        # TWILIO_REGION in the environment would re-route requests past base_url.
        self.sdk = Client(account_sid, auth_token, http_client=self.http_client, environment={"_": ""})

    def create_message(self, **fields: Any) -> dict[str, Any]:
        """``messages.create(**fields)``; raises ChannelRetryable/ChannelAmbiguous/ChannelPermanent/ConfigError."""
        with self._converted(sending=True):
            return message_record(self.sdk.messages.create(**fields))

    def list_messages(self, to: str, since: datetime, *, limit: int = 100) -> list[dict[str, Any]]:
        """Messages to ``to`` sent (or created) at or after ``since``, newest first."""
        with self._converted(sending=False):
            found = self.sdk.messages.list(to=to, date_sent_after=utc(since), limit=limit)
        return [message_record(m) for m in found]

    def close(self) -> None:
        self.http_client.close()

    @contextmanager
    def _converted(self, *, sending: bool) -> Iterator[None]:
        try:
            yield
        except (TwilioRestException, TwilioServiceException) as exc:
            message = getattr(exc, "msg", "") or getattr(exc, "title", "") or ""
            code = exc.code if isinstance(exc.code, int) else None
            raise to_channel_error(code, exc.status, mask_text(str(message)), channel=self.channel) from None
        except requests.exceptions.ConnectTimeout:
            raise ChannelRetryable(f"{self.channel}: Twilio connect timeout", channel=self.channel, code="connect") from None
        except requests.exceptions.Timeout:
            # the request went out: Twilio may have accepted it
            if sending:
                raise ChannelAmbiguous(
                    f"{self.channel}: Twilio did not answer in time; the message may have been sent",
                    channel=self.channel, code="timeout",
                ) from None
            raise ChannelRetryable(f"{self.channel}: Twilio read timeout", channel=self.channel, code="timeout") from None
        except requests.exceptions.ConnectionError as exc:
            if _never_connected(exc) or not sending:
                raise ChannelRetryable(
                    f"{self.channel}: cannot connect to Twilio", channel=self.channel, code="connect"
                ) from None
            raise ChannelAmbiguous(
                f"{self.channel}: connection to Twilio lost after sending; the message may have been sent",
                channel=self.channel, code="timeout",
            ) from None
        except requests.exceptions.RequestException as exc:
            raise ChannelRetryable(f"{self.channel}: Twilio request failed: {type(exc).__name__}",
                                   channel=self.channel, code="transport") from None
        except (ChannelError, ConfigError):
            raise
        except TwilioException as exc:  # e.g. "Unable to fetch page", malformed replies
            raise ChannelRetryable(f"{self.channel}: Twilio: {mask_text(str(exc.args[0]) if exc.args else '')}",
                                   channel=self.channel, code="malformed") from None


def _never_connected(exc: BaseException) -> bool:
    """True when the connection was refused/unresolvable: nothing was sent."""
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, NewConnectionError | ConnectionRefusedError):
            return True
        if isinstance(item, BaseException):
            stack.extend([getattr(item, "reason", None), item.__cause__, item.__context__, *item.args])
    return False


def section_options(twilio: Any, *, exclude: set[str]) -> dict[str, Any]:
    """A Twilio channel's settings from the shared ``[twilio]`` section (a ``TwilioSettings``):
    every key but ``exclude`` (the other channel's senders), the auth token in clear."""
    data = twilio.model_dump(exclude=exclude)
    data["auth_token"] = twilio.auth_token.get_secret_value()
    return data


def require_settings(settings: Any, keys: tuple[str, ...], *, purpose: str) -> None:
    """ConfigError naming the first of ``keys`` that is empty: ``twilio.auth_token: required to {purpose}``."""
    for key in keys:
        value = getattr(settings, key)
        if not (value.get_secret_value() if hasattr(value, "get_secret_value") else value):
            raise ConfigError(f"twilio.{key}: required to {purpose}")


def client_for(settings: Any, *, channel: str) -> TwilioClient:
    """The SDK client for a Twilio channel's settings (account, token, base URL, timeout)."""
    return TwilioClient(settings.account_sid, settings.auth_token.get_secret_value(),
                        base_url=settings.base_url, timeout=settings.timeout_seconds, channel=channel)
