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

from calovq import __version__, _interrupt
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
    """Turn the first SIGTERM (e.g. a batch system's kill) into KeyboardInterrupt so cleanup code runs.

    The default action is restored first, so a second SIGTERM ends the process at once. The request is
    also recorded in :mod:`calovq._interrupt`, which the streaming reader and writer check between blocks,
    in case Python swallowed the exception inside a weakref or GC callback.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _interrupt.request()
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status.

    The first SIGTERM is handled like Ctrl-C: temporary files are removed and existing outputs stay
    untouched; a second SIGTERM terminates at once.
    """
    _interrupt.reset()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return _run(argv)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _run(argv: Sequence[str] | None) -> int:
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
