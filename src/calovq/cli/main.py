"""``calovq`` entry point: one sub-command per module in :mod:`calovq.cli`.

Each command module exposes ``register(subparsers)``, which adds its parser and sets ``func`` to a
callable ``func(args) -> int``. Errors a user can cause are :class:`~calovq.exceptions.CaloVQError`s:
they print one line ``calovq: error: ...`` on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from calovq import __version__
from calovq.cli.common import register_commands
from calovq.exceptions import CaloVQError

#: Command modules, in the order ``calovq --help`` lists them.
COMMAND_MODULES = (
    "calovq.cli.demo",
    "calovq.cli.simulate",
    "calovq.cli.info",
    "calovq.cli.geometry",
    "calovq.cli.evaluate",
    "calovq.cli.download",
    "calovq.cli.bench",
)

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, one sub-command per module of :data:`COMMAND_MODULES`."""
    parser = argparse.ArgumentParser(
        prog="calovq",
        description="Fast calorimeter shower simulation and CaloChallenge evaluation.",
    )
    parser.add_argument("--version", action="version", version=f"calovq {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    register_commands(sub, COMMAND_MODULES)
    return parser


def _terminate(signum: int, frame: object) -> None:
    """Turn SIGTERM (e.g. a batch system's kill) into KeyboardInterrupt so cleanup code runs."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status.

    SIGTERM is handled like Ctrl-C: temporary files are removed and existing outputs stay untouched.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USER_ERROR
    try:
        return int(args.func(args) or 0)
    except CaloVQError as exc:
        print(f"calovq: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("calovq: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
