"""Flat voxel vectors <-> (layer, alpha, r) grids.

CaloChallenge stores a shower as a flat vector ordered (layer, alpha, r) with r fastest. Regular
geometries (datasets 2/3) reshape to ``(N, L, A, R)`` exactly. Irregular ones (dataset 1) go to the
smallest common grid ``(N, L, A_max, R_max)`` with a validity mask; padded cells are zero.
Works on numpy arrays and torch tensors alike.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TypeVar

import numpy as np

from calovq.exceptions import DataFormatError
from calovq.geometry.binning import Geometry

__all__ = ["from_grid", "from_padded", "padded_index", "padded_mask", "to_grid", "to_padded"]

ArrayT = TypeVar("ArrayT")


def _check_voxels(geometry: Geometry, n: int) -> None:
    if n != geometry.n_voxels:
        msg = f"showers have {n} voxels but geometry {geometry.name!r} has {geometry.n_voxels}"
        raise DataFormatError(msg)


def to_grid(showers: ArrayT, geometry: Geometry) -> ArrayT:
    """Reshape flat showers ``(N, n_voxels)`` of a regular geometry to ``(N, L, A, R)``."""
    _check_voxels(geometry, showers.shape[-1])  # type: ignore[attr-defined]
    return showers.reshape(*showers.shape[:-1], *geometry.shape)  # type: ignore[attr-defined]


def from_grid(grid: ArrayT, geometry: Geometry) -> ArrayT:
    """Inverse of :func:`to_grid`: ``(N, L, A, R)`` -> ``(N, n_voxels)``."""
    shape = tuple(grid.shape[-3:])  # type: ignore[attr-defined]
    if shape != geometry.shape:
        msg = f"grid trailing shape {shape} does not match geometry {geometry.name!r} {geometry.shape}"
        raise DataFormatError(msg)
    return grid.reshape(*grid.shape[:-3], geometry.n_voxels)  # type: ignore[attr-defined]


@lru_cache(maxsize=32)
def _padded_index_cached(geometry: Geometry) -> np.ndarray:
    _, A, R = geometry.padded_shape
    idx = np.empty(geometry.n_voxels, dtype=np.int64)
    for pos, layer in enumerate(geometry.binned_layers):
        a, r = np.meshgrid(np.arange(layer.n_alpha), np.arange(layer.n_r), indexing="ij")
        cells = (pos * A + a) * R + r  # (n_alpha, n_r), r fastest like the flat order
        idx[geometry.layer_slice(pos)] = cells.ravel()
    idx.setflags(write=False)
    return idx


def padded_index(geometry: Geometry) -> np.ndarray:
    """For each flat voxel, its index into the flattened padded grid ``(L * A_max * R_max)``."""
    return _padded_index_cached(geometry)


def padded_mask(geometry: Geometry) -> np.ndarray:
    """Boolean ``(L, A_max, R_max)`` mask of the cells that are real voxels."""
    mask = np.zeros(int(np.prod(geometry.padded_shape)), dtype=bool)
    mask[padded_index(geometry)] = True
    return mask.reshape(geometry.padded_shape)


def to_padded(showers: ArrayT, geometry: Geometry) -> ArrayT:
    """Scatter flat showers ``(N, n_voxels)`` into ``(N, L, A_max, R_max)``, zeros in padded cells."""
    _check_voxels(geometry, showers.shape[-1])  # type: ignore[attr-defined]
    idx = padded_index(geometry)
    size = int(np.prod(geometry.padded_shape))
    lead = tuple(showers.shape[:-1])  # type: ignore[attr-defined]
    if isinstance(showers, np.ndarray):
        out = np.zeros((*lead, size), dtype=showers.dtype)
        out[..., idx] = showers
    else:
        import torch

        out = showers.new_zeros((*lead, size))  # type: ignore[attr-defined]
        out[..., torch.tensor(idx, device=showers.device)] = showers  # type: ignore[attr-defined]
    return out.reshape(*lead, *geometry.padded_shape)  # type: ignore[return-value]


def from_padded(grid: ArrayT, geometry: Geometry) -> ArrayT:
    """Gather the real voxels of ``(N, L, A_max, R_max)`` back into ``(N, n_voxels)``."""
    shape = tuple(grid.shape[-3:])  # type: ignore[attr-defined]
    if shape != geometry.padded_shape:
        msg = f"padded grid shape {shape} does not match {geometry.padded_shape} of {geometry.name!r}"
        raise DataFormatError(msg)
    flat = grid.reshape(*grid.shape[:-3], -1)  # type: ignore[attr-defined]
    idx = padded_index(geometry)
    if isinstance(flat, np.ndarray):
        return flat[..., idx]  # type: ignore[return-value]
    import torch

    return flat[..., torch.tensor(idx, device=flat.device)]
