"""A local Kuaidi100-compatible real-time query server (``POST /poll/query.do``).

In-process::

    fake = Kuaidi100Fake(replies={"75312345678901": trace_reply("75312345678901", "zhongtong", "0", [...])})
    with serve_in_thread(fake) as base_url:
        ...  # point [providers.kuaidi100] base_url at it, customer/key = fake.customer/fake.key

As a process (prints exactly one line ``PORT <n>`` once listening, serves until SIGTERM)::

    python -m tests.fakes.kuaidi100 --data replies.json [--customer C --key K] [--port 0]

``replies.json`` maps tracking number -> the reply object to send (a trace, or an
error reply such as ``{"result": false, "returnCode": "500", "message": "…"}``).
The fake checks ``sign = upper(md5(param + key + customer))`` like the real one.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager as ContextManager
from typing import Any

from tests.fakes import _http
from tests.fakes._http import FakeHandler, FakeServer
from urllib.parse import parse_qs

__all__ = [
    "DEFAULT_CUSTOMER",
    "DEFAULT_KEY",
    "Kuaidi100Fake",
    "trace_reply",
    "error_reply",
    "make_server",
    "serve_in_thread",
    "main",
]

DEFAULT_CUSTOMER = "FAKECUSTOMER0001"
DEFAULT_KEY = "fake-kuaidi100-key"
QUERY_PATH = "/poll/query.do"


def error_reply(code: str, message: str) -> dict[str, Any]:
    return {"result": False, "returnCode": code, "message": message}


_MESSAGES = {
    "400": "找不到对应公司",
    "500": "查询无结果，请隔段时间再查",
    "501": "服务器错误",
    "502": "服务器繁忙",
    "503": "验证签名失败",
    "601": "POLL:KEY已过期",
}


def trace_reply(number: str, com: str, state: str, data: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A success reply in the real shape (``data`` newest first)."""
    return {
        "message": "ok",
        "nu": number,
        "ischeck": "1" if state.startswith("3") else "0",
        "condition": "F00" if state.startswith("3") else "00",
        "com": com,
        "status": "200",
        "state": state,
        "data": [dict(item) for item in data],
    }


class Kuaidi100Fake:
    """Reply logic, counters and failure injection; thread-safe, usable without HTTP."""

    def __init__(
        self,
        replies: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        customer: str = DEFAULT_CUSTOMER,
        key: str = DEFAULT_KEY,
    ) -> None:
        self.customer = customer
        self.key = key
        self.replies: dict[str, dict[str, Any]] = {num: dict(reply) for num, reply in (replies or {}).items()}
        self.requests = 0
        self.by_number: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._fail: list[tuple[int, float | None]] = []  # queued HTTP failures
        self._codes: list[str] = []  # queued returnCode replies

    def fail_next(self, n: int = 1, http_status: int = 503, *, retry_after: float | None = None) -> None:
        """The next ``n`` requests get HTTP ``http_status`` (with ``Retry-After`` if given)."""
        with self._lock:
            self._fail.extend([(http_status, retry_after)] * n)

    def return_code_next(self, n: int = 1, code: str = "502") -> None:
        """The next ``n`` correctly signed requests get ``{"result":false,"returnCode":code}``."""
        with self._lock:
            self._codes.extend([code] * n)

    def handle(self, form: Mapping[str, str]) -> tuple[int, dict[str, str], bytes]:
        """One request's form fields -> (HTTP status, extra headers, body)."""
        with self._lock:
            self.requests += 1
            if self._fail:
                status, retry_after = self._fail.pop(0)
                headers = {} if retry_after is None else {"Retry-After": str(int(retry_after))}
                return status, headers, b"fake failure"
            reply = self._reply(form)
        return 200, {"Content-Type": "application/json;charset=UTF-8"}, _json(reply)

    def _reply(self, form: Mapping[str, str]) -> dict[str, Any]:
        param, customer = form.get("param", ""), form.get("customer", "")
        if not param or not customer or not form.get("sign"):
            return error_reply("400", "提交的数据不完整")
        expected = hashlib.md5((param + self.key + self.customer).encode("utf-8")).hexdigest().upper()
        if customer != self.customer or form["sign"] != expected:
            return error_reply("503", _MESSAGES["503"])
        try:
            fields = json.loads(param)
            number = str(fields["num"])
        except (ValueError, KeyError, TypeError):
            return error_reply("400", "提交的数据不完整")
        self.by_number[number] += 1
        if self._codes:
            code = self._codes.pop(0)
            return error_reply(code, _MESSAGES.get(code, "fake error"))
        return self.replies.get(number) or error_reply("500", _MESSAGES["500"])


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


class _Handler(FakeHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        raw = self.read_body().decode("utf-8", errors="replace")
        if self.path.split("?", 1)[0] != QUERY_PATH:
            self.reply(404, {}, b"not found")
            return
        form = {name: values[0] for name, values in parse_qs(raw, keep_blank_values=True).items()}
        self.reply(*self.server.fake.handle(form))


def make_server(fake: Kuaidi100Fake, host: str = "127.0.0.1", port: int = 0) -> FakeServer:
    return FakeServer(fake, host, port, _Handler)


def serve_in_thread(fake: Kuaidi100Fake, host: str = "127.0.0.1") -> ContextManager[str]:
    """Serve ``fake`` on a free port in a daemon thread; yields the base URL."""
    return _http.serve_in_thread(make_server(fake, host, 0), "kuaidi100-fake")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.kuaidi100", description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="JSON file: tracking number -> reply object")
    parser.add_argument("--customer", default=DEFAULT_CUSTOMER)
    parser.add_argument("--key", default=DEFAULT_KEY)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    with open(args.data, encoding="utf-8") as handle:
        replies = json.load(handle)
    if not isinstance(replies, dict):
        parser.error("--data must hold a JSON object: tracking number -> reply")
    server = make_server(Kuaidi100Fake(replies, customer=args.customer, key=args.key), args.host, args.port)
    return _http.serve_until_signal(server)


if __name__ == "__main__":
    sys.exit(main())
