"""Shower files in the CaloChallenge HDF5 format: validation, streaming, atomic writing, summaries."""

from __future__ import annotations

from calovq.data.atomic import atomic_path, atomic_write_text, check_output
from calovq.data.calochallenge import (
    ShowerFile,
    ShowerWriter,
    check_energies,
    check_showers,
    default_chunk_rows,
    write_showers,
)

__all__ = [
    "ShowerFile",
    "ShowerWriter",
    "atomic_path",
    "atomic_write_text",
    "check_energies",
    "check_output",
    "check_showers",
    "default_chunk_rows",
    "write_showers",
]
