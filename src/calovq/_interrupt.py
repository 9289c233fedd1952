"""A process-wide stop request, set by the CLI's SIGTERM handler and honoured by long loops.

Python ignores an exception raised while it runs a weakref or GC callback, so the KeyboardInterrupt the
handler raises can be swallowed (it happens when the main thread waits on a process pool). The flag set
here survives that: :func:`check` is called between blocks by the streaming reader and writer, which turns
the request into a KeyboardInterrupt at the next block, so cleanup code still runs.
"""

from __future__ import annotations

__all__ = ["check", "request", "reset"]

_requested = False


def request() -> None:
    """Ask every long loop to stop at its next check."""
    global _requested
    _requested = True


def reset() -> None:
    """Clear a previous request (the CLI does this when a command starts)."""
    global _requested
    _requested = False


def check() -> None:
    """Raise KeyboardInterrupt if a stop was requested."""
    if _requested:
        raise KeyboardInterrupt
