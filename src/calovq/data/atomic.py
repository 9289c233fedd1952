"""Safe outputs: never overwrite without permission, never leave a half-written file under the real name."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from calovq.exceptions import OutputError, OutputExistsError

__all__ = [
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_output",
    "commit",
    "create_temporary",
    "ensure_directory",
    "prepare_output",
    "temporary_name",
]


def check_output(path: str | Path, overwrite: bool) -> Path:
    """Return ``path`` as a Path; raise :class:`OutputExistsError` if it exists and ``overwrite`` is False."""
    p = Path(path)
    if p.exists() and not overwrite:
        msg = f"{p} already exists (pass --overwrite / overwrite=True to replace it)"
        raise OutputExistsError(msg)
    return p


def ensure_directory(path: str | Path) -> Path:
    """Create the directory ``path`` (and its parents); raise :class:`OutputError` when that is impossible."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        msg = f"cannot use {p} as an output directory: it exists and is not a directory"
        raise OutputError(msg)
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create output directory {p}: {exc.strerror or exc}"
        raise OutputError(msg) from exc
    return p


def prepare_output(path: str | Path, overwrite: bool) -> Path:
    """Check that the file ``path`` may be written (:func:`check_output`, not a directory) and create its folder."""
    p = check_output(path, overwrite)
    if p.is_dir():
        msg = f"cannot write {p}: it is a directory"
        raise OutputError(msg)
    ensure_directory(p.parent)
    return p


def commit(tmp: Path, final: Path) -> None:
    """Rename the finished ``tmp`` to ``final``; on failure remove ``tmp`` and raise :class:`OutputError`."""
    try:
        os.replace(tmp, final)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        msg = f"cannot write {final}: {exc.strerror or exc}"
        raise OutputError(msg) from exc


def temporary_name(path: Path) -> Path:
    """A hidden sibling of ``path`` used while writing: ``.NAME.PID.partial``."""
    return path.with_name(f".{path.name}.{os.getpid()}.partial")


def create_temporary(path: Path) -> Path:
    """Create the empty :func:`temporary_name` of ``path``; raise :class:`OutputError` if its folder refuses it."""
    tmp = temporary_name(path)
    try:
        tmp.touch()
    except OSError as exc:
        msg = f"cannot write {path}: {exc.strerror or exc}"
        raise OutputError(msg) from exc
    return tmp


@contextlib.contextmanager
def atomic_path(path: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` only if the block succeeds.

    On an exception the temporary file is removed and ``path`` is untouched.

    Raises:
        OutputExistsError: ``path`` exists and ``overwrite`` is False.
        OutputError: ``path`` is a directory, or its folder cannot be created or written.
    """
    final = prepare_output(path, overwrite)
    tmp = create_temporary(final)
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    commit(tmp, final)


def atomic_write_bytes(path: str | Path, data: bytes, overwrite: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temporary file and an atomic rename."""
    with atomic_path(path, overwrite) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | Path, text: str, overwrite: bool = False) -> Path:
    """Write UTF-8 ``text`` to ``path`` through a temporary file and an atomic rename."""
    return atomic_write_bytes(path, text.encode("utf-8"), overwrite)
