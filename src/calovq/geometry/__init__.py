"""Calorimeter geometries: layers, binning XML, built-in CaloChallenge detectors and voxel layouts."""

from __future__ import annotations

from calovq.geometry.binning import Geometry, Layer, geometry_from_xml, geometry_to_xml
from calovq.geometry.builtin import (
    DS1_ENERGIES_MEV,
    GEOMETRY_NAMES,
    dataset1_energy_counts,
    geometry_for_voxels,
    get_geometry,
)
from calovq.geometry.layout import from_grid, from_padded, padded_mask, to_grid, to_padded

__all__ = [
    "DS1_ENERGIES_MEV",
    "GEOMETRY_NAMES",
    "Geometry",
    "Layer",
    "dataset1_energy_counts",
    "from_grid",
    "from_padded",
    "geometry_for_voxels",
    "geometry_from_xml",
    "geometry_to_xml",
    "get_geometry",
    "padded_mask",
    "to_grid",
    "to_padded",
]
