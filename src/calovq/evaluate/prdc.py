"""Precision, recall, density and coverage of a generated sample, computed in blocks.

The four metrics of Naeem et al. 2020, "Reliable fidelity and diversity metrics for generative models"
(arXiv:2002.09797), with k nearest neighbours (k = 5 in the CaloChallenge 2022, arXiv:2410.21611):

* precision: fraction of generated points inside at least one reference kNN ball;
* recall: fraction of reference points inside at least one generated kNN ball;
* density: mean number of reference kNN balls containing a generated point, divided by k;
* coverage: fraction of reference balls that contain at least one generated point.

A ball's radius is the distance to the k-th nearest *other* point of the same sample (the point itself
counts as the 0-th neighbour), and "inside" is a strict ``<``, as in the authors' ``prdc`` package.
Distances are Euclidean, evaluated as ``|a|^2 + |b|^2 - 2 a.b`` in float64 (clipped at 0), the same way
scikit-learn does. No N x N matrix is formed, nor is a whole sample converted: rows and columns are
taken ``block_size`` at a time (the inputs may be memory-mapped), so memory is ``O(block_size^2)`` plus
``O(N)`` per-point bookkeeping.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import torch

__all__ = ["compute_prdc", "knn_radii", "prdc_input"]

# Rows and columns of a distance block by default: 2048 x 2048 float64 = 32 MiB.
_DEFAULT_BLOCK = 2048


def prdc_input(showers: npt.ArrayLike, zero_value: float = 0.1) -> npt.NDArray[np.float32]:
    """Features on which the CaloChallenge evaluates PRDC: log10 of the voxel energies.

    Voxels with zero energy (after the caller has applied the readout threshold) are first set to
    ``zero_value`` so that the logarithm is finite.

    Args:
        showers: Voxel energies in MeV, shape ``(n_events, n_voxels)``; not modified.
        zero_value: Energy given to empty voxels before the logarithm.

    Returns:
        float32 array of the same shape.
    """
    x = np.array(showers, dtype=np.float64, copy=True)
    if x.ndim != 2:
        msg = f"showers must be 2-d (events, voxels), got shape {x.shape}"
        raise ValueError(msg)
    if np.any(x < 0) or not np.all(np.isfinite(x)):
        msg = "showers must be finite and non-negative"
        raise ValueError(msg)
    x[x == 0] = zero_value
    return np.log10(x).astype(np.float32)


def _check_2d(x: npt.ArrayLike, name: str) -> npt.ArrayLike:
    shape = np.shape(x)
    if len(shape) != 2:
        msg = f"{name} must be a 2-d array (points, features), got shape {shape}"
        raise ValueError(msg)
    return x


def _block(x: npt.ArrayLike, start: int, stop: int, device: torch.device) -> torch.Tensor:
    """Rows ``start:stop`` of an array or memmap as a fresh float64 tensor."""
    return torch.from_numpy(np.array(x[start:stop], dtype=np.float64)).to(device)  # type: ignore[index]


def _block_size(block_size: int | None) -> int:
    if block_size is None:
        return _DEFAULT_BLOCK
    if block_size < 1:
        msg = f"block_size must be positive, got {block_size}"
        raise ValueError(msg)
    return block_size


def _squared_norms(x: npt.ArrayLike, block: int, device: torch.device) -> torch.Tensor:
    n = len(x)  # type: ignore[arg-type]
    return torch.cat([_block(x, s, min(s + block, n), device).square().sum(dim=1) for s in range(0, n, block)])


def _distances(a: torch.Tensor, b: torch.Tensor, a_sq: torch.Tensor, b_sq: torch.Tensor) -> torch.Tensor:
    """Euclidean distances between the rows of ``a`` and ``b`` (squared norms precomputed)."""
    d2 = a @ b.T  # (block_a, block_b)
    d2.mul_(-2.0).add_(a_sq[:, None]).add_(b_sq[None, :])
    return d2.clamp_(min=0.0).sqrt_()


def knn_radii(
    x: npt.ArrayLike, nearest_k: int = 5, block_size: int | None = None, device: str | torch.device = "cpu"
) -> npt.NDArray[np.float64]:
    """Distance from every point to its k-th nearest neighbour within the same sample.

    Args:
        x: Points, shape ``(n, d)``; a numpy array or ``np.memmap`` (read block by block).
        nearest_k: k (the point itself is not counted).
        block_size: Rows and columns of each distance block (default 2048).
        device: Torch device for the matrix products.

    Returns:
        Radii, shape ``(n,)``.
    """
    dev = torch.device(device)
    block = _block_size(block_size)
    pts = _check_2d(x, "x")
    return _radii(pts, _squared_norms(pts, block, dev), nearest_k, block, dev).cpu().numpy()


def _radii(x: npt.ArrayLike, sq: torch.Tensor, nearest_k: int, block: int, dev: torch.device) -> torch.Tensor:
    n = len(sq)
    if not 1 <= nearest_k < n:
        msg = f"nearest_k must be between 1 and n - 1 = {n - 1}, got {nearest_k}"
        raise ValueError(msg)
    # The k + 1 smallest distances seen so far for every point (the point itself is the first).
    best = torch.full((n, nearest_k + 1), torch.inf, dtype=torch.float64, device=dev)

    def update(r0: int, r1: int, d: torch.Tensor) -> None:
        merged = torch.cat([best[r0:r1], d], dim=1)
        best[r0:r1] = torch.topk(merged, nearest_k + 1, dim=1, largest=False).values

    # The distance matrix is symmetric: visit blocks on and above the diagonal and use each one for
    # its rows and (transposed) for its columns.
    for r0 in range(0, n, block):
        r1 = min(r0 + block, n)
        rows = _block(x, r0, r1, dev)
        for c0 in range(r0, n, block):
            c1 = min(c0 + block, n)
            d = _distances(rows, rows if c0 == r0 else _block(x, c0, c1, dev), sq[r0:r1], sq[c0:c1])
            if c0 == r0:
                d.fill_diagonal_(0.0)  # a point's distance to itself is exactly zero
            update(r0, r1, d)
            if c0 != r0:
                update(c0, c1, d.T)
    return best[:, -1].clone()


def compute_prdc(
    real: npt.ArrayLike,
    fake: npt.ArrayLike,
    nearest_k: int = 5,
    block_size: int | None = None,
    device: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Precision, recall, density and coverage of ``fake`` with respect to ``real`` (Naeem et al. 2020).

    Both samples may be numpy arrays or ``np.memmap``; they are read ``block_size`` rows at a time and
    only ``block_size x block_size`` distances exist at once, so memory does not grow with N.

    Args:
        real: Reference points, shape ``(n_real, d)``.
        fake: Generated points, shape ``(n_fake, d)``.
        nearest_k: Neighbours defining the ball radii (5 in the challenge).
        block_size: Rows and columns of each distance block (default 2048).
        device: Torch device for the matrix products.

    Returns:
        Dictionary with ``precision``, ``recall``, ``density``, ``coverage`` (floats), ``nearest_k``,
        ``n_real`` and ``n_fake``.
    """
    dev = torch.device(device)
    block = _block_size(block_size)
    r = _check_2d(real, "real")
    f = _check_2d(fake, "fake")
    if np.shape(r)[1] != np.shape(f)[1]:
        msg = f"real has {np.shape(r)[1]} features but fake has {np.shape(f)[1]}"
        raise ValueError(msg)
    r_sq = _squared_norms(r, block, dev)
    f_sq = _squared_norms(f, block, dev)
    radius_real = _radii(r, r_sq, nearest_k, block, dev)
    radius_fake = _radii(f, f_sq, nearest_k, block, dev)
    n_real, n_fake = len(r_sq), len(f_sq)
    balls_per_fake = torch.zeros(n_fake, dtype=torch.int64, device=dev)
    recalled = torch.zeros(n_real, dtype=torch.bool, device=dev)
    nearest_fake = torch.full((n_real,), torch.inf, dtype=torch.float64, device=dev)
    for r0 in range(0, n_real, block):
        r1 = min(r0 + block, n_real)
        rows = _block(r, r0, r1, dev)
        for c0 in range(0, n_fake, block):
            c1 = min(c0 + block, n_fake)
            d = _distances(rows, _block(f, c0, c1, dev), r_sq[r0:r1], f_sq[c0:c1])  # (real, fake)
            balls_per_fake[c0:c1] += (d < radius_real[r0:r1, None]).sum(dim=0)
            nearest_fake[r0:r1] = torch.minimum(nearest_fake[r0:r1], d.min(dim=1).values)
            recalled[r0:r1] |= (d < radius_fake[None, c0:c1]).any(dim=1)
    return {
        "precision": float((balls_per_fake > 0).double().mean()),
        "recall": float(recalled.double().mean()),
        "density": float(balls_per_fake.double().mean()) / nearest_k,
        "coverage": float((nearest_fake < radius_real).double().mean()),
        "nearest_k": nearest_k,
        "n_real": int(n_real),
        "n_fake": int(n_fake),
    }
