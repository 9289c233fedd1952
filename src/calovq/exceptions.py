"""Exceptions raised for user-facing errors.

Every error a user can cause (a bad file, an unknown geometry, an existing output) raises a subclass of
:class:`CaloVQError`; the command-line interface turns it into a one-line message and a non-zero exit.
``assert`` is kept for internal invariants only.
"""

from __future__ import annotations

__all__ = [
    "CaloVQError",
    "CheckpointError",
    "ChecksumError",
    "ConfigError",
    "DataFormatError",
    "DownloadError",
    "EnergyRangeError",
    "GeometryError",
    "OutputError",
    "OutputExistsError",
]


class CaloVQError(Exception):
    """Base class of every error calovq raises for bad input or environment."""


class GeometryError(CaloVQError):
    """Unknown geometry name, malformed binning XML, or data that do not fit a geometry."""


class DataFormatError(CaloVQError):
    """A shower file or array breaks the CaloChallenge format (shape, values, truncation)."""


class OutputError(CaloVQError):
    """An output cannot be written: a directory is in the way, or its folder cannot be created or written."""


class OutputExistsError(OutputError):
    """An output already exists and ``overwrite`` was not requested."""


class DownloadError(CaloVQError):
    """A download failed (network, HTTP status, unknown record)."""


class ChecksumError(DownloadError):
    """A downloaded file does not match its published checksum."""


class CheckpointError(CaloVQError):
    """A checkpoint is unreadable, from another version, or for another geometry."""


class ConfigError(CaloVQError):
    """An unknown configuration key or a value of the wrong type."""


class EnergyRangeError(CaloVQError):
    """Requested incident energies lie outside the range a model or dataset covers."""
