"""Safe outputs: never overwrite without permission, never leave a half-written file under the real name."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from calovq.exceptions import OutputExistsError

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "check_output", "temporary_name"]


def check_output(path: str | Path, overwrite: bool) -> Path:
    """Return ``path`` as a Path; raise :class:`OutputExistsError` if it exists and ``overwrite`` is False."""
    p = Path(path)
    if p.exists() and not overwrite:
        msg = f"{p} already exists (pass --overwrite / overwrite=True to replace it)"
        raise OutputExistsError(msg)
    return p


def temporary_name(path: Path) -> Path:
    """A hidden sibling of ``path`` used while writing: ``.NAME.PID.partial``."""
    return path.with_name(f".{path.name}.{os.getpid()}.partial")


@contextlib.contextmanager
def atomic_path(path: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` only if the block succeeds.

    On an exception the temporary file is removed and ``path`` is untouched.
    """
    final = check_output(path, overwrite)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(final)
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if not tmp.exists():
        msg = f"internal error: nothing was written to {tmp}"
        raise FileNotFoundError(msg)
    os.replace(tmp, final)


def atomic_write_bytes(path: str | Path, data: bytes, overwrite: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temporary file and an atomic rename."""
    with atomic_path(path, overwrite) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | Path, text: str, overwrite: bool = False) -> Path:
    """Write UTF-8 ``text`` to ``path`` through a temporary file and an atomic rename."""
    return atomic_write_bytes(path, text.encode("utf-8"), overwrite)
