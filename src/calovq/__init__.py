"""calovq: fast calorimeter shower simulation with a two-stage vector-quantised generative model.

The public API is re-exported here; see the README for the command-line workflow.
"""

from __future__ import annotations

from calovq.exceptions import (
    CaloVQError,
    CheckpointError,
    ChecksumError,
    ConfigError,
    DataFormatError,
    DownloadError,
    EnergyRangeError,
    GeometryError,
    OutputError,
    OutputExistsError,
)
from calovq.geometry import Geometry, Layer, geometry_from_xml, get_geometry

__version__ = "0.1.0"

__all__ = [
    "CaloVQError",
    "CheckpointError",
    "ChecksumError",
    "ConfigError",
    "DataFormatError",
    "DownloadError",
    "EnergyRangeError",
    "Geometry",
    "GeometryError",
    "Layer",
    "OutputError",
    "OutputExistsError",
    "__version__",
    "geometry_from_xml",
    "get_geometry",
]
