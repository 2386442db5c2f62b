"""``parcelwatch [--config FILE] VERB …`` — the command-line contract of DESIGN.md.

Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error.
Errors are one line on stderr, never a traceback for bad input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

import structlog

from watcher import __version__
from watcher.errors import ConfigError, InputError, ParcelwatchError

__all__ = ["main", "build_parser"]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def _json_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _dual(name: str) -> list[str]:
    """``--tracking-number`` and ``--tracking_number`` both work."""
    flags = [f"--{name.replace('_', '-')}"]
    if "_" in name:
        flags.append(f"--{name}")
    return flags


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="parcelwatch", description="Watch every shipped parcel; flag trouble; tell buyers first.")
    parser.add_argument("--config", metavar="FILE", help="TOML settings (default: $PARCELWATCH_CONFIG or ./parcelwatch.toml)")
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"],
                        help="default: info for run and serve (state changes), warning for the rest")
    parser.add_argument("--version", action="version", version=f"parcelwatch {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    verbs.required = True

    p = verbs.add_parser("demo", help="self-contained run on the simulated carrier")
    p.add_argument("--db", default="parcelwatch-demo.db", help="demo database file, recreated each run")
    p.add_argument("--days", type=int, default=7, help="simulated days to run (default 7)")
    _json_flag(p)

    p = verbs.add_parser("import", help="bulk intake from a CSV file")
    p.add_argument("file", metavar="FILE.csv")
    _json_flag(p)

    p = verbs.add_parser("add", help="add or update one parcel")
    for name in ("carrier", "tracking_number"):
        p.add_argument(*_dual(name), dest=name, required=True)
    for name in ("order_id", "buyer_name", "buyer_phone", "buyer_chat_id", "province", "city",
                 "district", "address", "shipped_at", "language"):
        p.add_argument(*_dual(name), dest=name)
    _json_flag(p)

    p = verbs.add_parser("poll", help="poll due parcels once, then exit")
    p.add_argument("--all", action="store_true", help="every non-terminal parcel, not only due ones")
    _json_flag(p)

    verbs.add_parser("run", help="the daemon: scheduled polling until SIGTERM/SIGINT")

    p = verbs.add_parser("serve", help="HTTP receivers (Twilio callbacks, chat presence), /healthz, /metrics")
    p.add_argument("--host", help="bind address (default: [serve] host)")
    p.add_argument("--port", type=int, help="port (default: [serve] port; 0 picks a free one)")

    p = verbs.add_parser("list", help="parcels with status, flags and last checkpoint")
    p.add_argument("--flag", choices=["stalled", "unreachable", "exception", "not_collected"])
    p.add_argument("--status")
    p.add_argument("--limit", type=int)
    _json_flag(p)

    p = verbs.add_parser("notices", help="the buyer-notice outbox")
    p.add_argument("--state", choices=["queued", "deferred", "sending", "sent", "delivered", "failed", "suppressed"])
    p.add_argument("--limit", type=int)
    _json_flag(p)

    p = verbs.add_parser("show", help="one parcel with its checkpoints")
    p.add_argument("number")
    p.add_argument("--carrier", help="courier, when one number exists for several couriers")
    _json_flag(p)

    p = verbs.add_parser("report", help="the stall report: flagged parcels, what to do next")
    p.add_argument("--format", default="text", choices=["text", "csv", "json", "html"])
    p.add_argument("--output", metavar="PATH", help="write the report to PATH (default: print it)")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="as of the end of that shop-local day (not recorded as a run)")
    p.add_argument("--send", action="store_true",
                   help="do what `run` does nightly: write dated files into report.output_dir "
                        "and send the summary to report.notify")

    p = verbs.add_parser("ack", help="record that a flagged parcel is being handled")
    p.add_argument("number")
    p.add_argument("--note", required=True)
    p.add_argument("--by", default="", help="who handles it")
    p.add_argument("--carrier", help="courier, when one number exists for several couriers")
    p.add_argument("--flag", choices=["stalled", "unreachable", "exception", "not_collected"],
                   help="acknowledge only this flag (default: every current flag)")
    _json_flag(p)

    p = verbs.add_parser("coverage", help="does a courier serve an address? (before dispatch)")
    p.add_argument("--carrier", required=True)
    p.add_argument("--address", required=True, help='full address, e.g. "新疆喀什地区塔什库尔干县…"')
    _json_flag(p)

    p = verbs.add_parser("carriers", help="installed carrier adapters and the couriers they cover")
    _json_flag(p)

    p = verbs.add_parser("db", help="database maintenance")
    db_verbs = p.add_subparsers(dest="db_verb", metavar="ACTION", parser_class=_Parser)
    db_verbs.required = True
    db_verbs.add_parser("upgrade", help="apply pending schema migrations")
    db_verbs.add_parser("purge", help="erase buyer data of parcels finished more than database.retention_days ago")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from watcher.logs import configure_logging

    args = build_parser().parse_args(argv)
    configure_logging(args.log_level or ("info" if args.verb in ("run", "serve") else "warning"))
    log = structlog.get_logger("parcelwatch.cli")
    try:
        from watcher.cli import commands

        return int(commands.dispatch(args) or EXIT_OK)
    except (ConfigError, InputError) as exc:
        print(f"parcelwatch: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ParcelwatchError as exc:
        print(f"parcelwatch: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("parcelwatch: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug: one line for the user, the traceback in the debug log
        log.debug("cli.crashed", exc_info=True)
        print(f"parcelwatch: internal error: {type(exc).__name__}: {exc} (run with --log-level debug for details)",
              file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
