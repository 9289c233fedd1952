"""High-level shower features, computed chunk by chunk, with the CaloChallenge 2022 conventions.

Definitions follow the official evaluation (CaloChallenge 2022, arXiv:2410.21611; ``HighLevelFeatures.py``
of github.com/CaloChallenge/homepage), restated in ``docs/evaluation.md``:

- voxels below the readout threshold (:attr:`Geometry.threshold_mev`) are set to 0 first;
- per binned layer: the deposited energy ``E_layer``, the centre of energy and width in ``r`` and the
  sparsity (1 - fraction of the layer's voxels with energy strictly above the threshold);
- per layer binned in ``alpha`` (``n_alpha > 1``): the centre of energy and width in ``eta = r cos(alpha)``
  and ``phi = r sin(alpha)``;
- per shower: ``E_tot`` and ``E_tot / E_inc``.

Centres are ``sum(x e) / (sum(e) + 1e-16)``; widths ``sqrt(max(sum(x^2 e) / (sum(e) + 1e-16) - EC^2, 0))``,
so empty layers give 0. All features are per shower, so any chunking gives the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from calovq.data.calochallenge import ShowerFile
from calovq.exceptions import DataFormatError
from calovq.geometry import Geometry, get_geometry

__all__ = [
    "FeatureAccumulator",
    "HighLevelFeatures",
    "alpha_binned_positions",
    "apply_threshold",
    "compute_features",
    "features_from_file",
]

#: Guard added to every energy sum used as a denominator (official value).
EPS_SUM = 1e-16
#: Offset inside the logarithms of the high-level vector (official value).
EPS_LOG = 1e-8


def apply_threshold(showers: np.ndarray, threshold_mev: float, copy: bool = False) -> np.ndarray:
    """Set voxels with energy below ``threshold_mev`` to 0 (in place unless ``copy``).

    Args:
        showers: (N, n_voxels) energies in MeV.
        threshold_mev: readout threshold (15.15 keV for datasets 2/3, 1 MeV for dataset 1).
        copy: work on a copy and leave ``showers`` untouched.

    Returns:
        The thresholded array (``showers`` itself unless ``copy``).
    """
    out = np.array(showers, copy=True) if copy else showers
    out[out < threshold_mev] = 0
    return out


def alpha_binned_positions(geometry: Geometry) -> tuple[int, ...]:
    """Positions (among the binned layers) of the layers with more than one alpha bin.

    These, and only these, contribute centre-of-energy and width features in eta and phi (the official
    ``GetLayersWithBinningInAlpha``): dataset-1 photons layers 1, 2; pions 1, 2, 12, 13; every layer of
    datasets 2 and 3.
    """
    return tuple(i for i, layer in enumerate(geometry.binned_layers) if layer.n_alpha > 1)


@dataclass
class HighLevelFeatures:
    """Per-shower high-level features of one sample.

    Layer-indexed arrays follow the binned layers of ``geometry`` in file order (``geometry.layer_ids``);
    eta/phi arrays follow the alpha-binned layers (``alpha_layer_ids``). Lengths in mm, energies in MeV.

    Attributes:
        geometry: the calorimeter geometry.
        energies: incident energies E_inc, shape (N,).
        e_tot: total deposited energy after the threshold, (N,).
        e_layer: energy per binned layer, (N, L).
        ec_r, width_r: centre of energy and width in r per binned layer, (N, L).
        sparsity: 1 - fraction of the layer's voxels above threshold, (N, L).
        ec_eta, ec_phi, width_eta, width_phi: per alpha-binned layer, (N, La).
    """

    geometry: Geometry
    energies: np.ndarray
    e_tot: np.ndarray
    e_layer: np.ndarray
    ec_r: np.ndarray
    width_r: np.ndarray
    sparsity: np.ndarray
    ec_eta: np.ndarray
    ec_phi: np.ndarray
    width_eta: np.ndarray
    width_phi: np.ndarray

    _ARRAYS = (
        "energies",
        "e_tot",
        "e_layer",
        "ec_r",
        "width_r",
        "sparsity",
        "ec_eta",
        "ec_phi",
        "width_eta",
        "width_phi",
    )

    def __len__(self) -> int:
        return int(self.energies.shape[0])

    @property
    def layer_ids(self) -> tuple[int, ...]:
        """Ids of the binned layers (columns of ``e_layer``)."""
        return self.geometry.layer_ids

    @property
    def alpha_layer_ids(self) -> tuple[int, ...]:
        """Ids of the alpha-binned layers (columns of ``ec_eta`` etc.)."""
        ids = self.geometry.layer_ids
        return tuple(ids[i] for i in alpha_binned_positions(self.geometry))

    @property
    def e_ratio(self) -> np.ndarray:
        """E_tot / E_inc, shape (N,)."""
        return self.e_tot / self.energies

    def matrix(self) -> np.ndarray:
        """The official high-level vector without E_inc and label, shape (N, d).

        Columns: ``log10(E_layer + 1e-8)`` (all binned layers), ``EC_eta/100``, ``EC_phi/100``,
        ``width_eta/100``, ``width_phi/100`` (alpha-binned layers), ``log10(E_tot + 1e-8)``, sparsity,
        ``EC_r/100``, ``width_r/100`` (all binned layers): the order of ``prepare_high_data_for_classifier``
        in the official ``evaluate.py``. :func:`calovq.evaluate.classifier.high_level_input` adds
        ``log10(E_inc)`` in front.
        """
        return np.concatenate(
            [
                np.log10(self.e_layer + EPS_LOG),
                self.ec_eta / 1e2,
                self.ec_phi / 1e2,
                self.width_eta / 1e2,
                self.width_phi / 1e2,
                np.log10(self.e_tot + EPS_LOG)[:, None],
                self.sparsity,
                self.ec_r / 1e2,
                self.width_r / 1e2,
            ],
            axis=1,
        )

    def column_names(self) -> list[str]:
        """Names of the columns of :meth:`matrix`."""
        ids, aids = self.layer_ids, self.alpha_layer_ids
        names = [f"log10_E_layer_{i}" for i in ids]
        for what in ("EC_eta", "EC_phi", "width_eta", "width_phi"):
            names += [f"{what}_{i}/100" for i in aids]
        names.append("log10_E_tot")
        names += [f"sparsity_{i}" for i in ids]
        names += [f"EC_r_{i}/100" for i in ids]
        names += [f"width_r_{i}/100" for i in ids]
        return names

    def subset(self, index: np.ndarray | slice) -> HighLevelFeatures:
        """The features of the showers selected by ``index`` (a slice, mask or index array)."""
        return HighLevelFeatures(self.geometry, **{k: getattr(self, k)[index] for k in self._ARRAYS})

    @classmethod
    def concatenate(cls, parts: Sequence[HighLevelFeatures]) -> HighLevelFeatures:
        """Stack feature blocks of the same geometry (row order kept)."""
        if not parts:
            msg = "no feature blocks to concatenate"
            raise ValueError(msg)
        geo = parts[0].geometry
        if any(p.geometry != geo for p in parts):
            msg = "cannot concatenate features of different geometries"
            raise DataFormatError(msg)
        return cls(geo, **{k: np.concatenate([getattr(p, k) for p in parts]) for k in cls._ARRAYS})


def _layer_moments(x: np.ndarray, coord: np.ndarray, total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre of energy and width of ``coord`` weighted by the energies ``x`` (N, n) of one layer."""
    denom = total + EPS_SUM
    centre = (x @ coord) / denom
    second = (x @ (coord * coord)) / denom
    width = np.sqrt(np.clip(second - centre**2, 0.0, None))
    return centre, width


def compute_features(
    energies: np.ndarray,
    showers: np.ndarray,
    geometry: str | Geometry,
    threshold: bool = True,
) -> HighLevelFeatures:
    """High-level features of an in-memory block of showers.

    Args:
        energies: incident energies in MeV, (N,) or (N, 1).
        showers: voxel energies in MeV, (N, n_voxels).
        geometry: the geometry (name or :class:`Geometry`).
        threshold: apply the readout threshold first (on a copy); pass False for data already thresholded.

    Returns:
        The :class:`HighLevelFeatures` of the block.

    Raises:
        DataFormatError: wrong voxel count or mismatched lengths.
    """
    geo = get_geometry(geometry)
    e = np.asarray(energies, dtype=np.float64).reshape(-1)
    s = np.asarray(showers)
    if s.ndim != 2 or s.shape[1] != geo.n_voxels:
        msg = f"showers of shape {s.shape} do not fit geometry {geo.name!r} ({geo.n_voxels} voxels)"
        raise DataFormatError(msg)
    if s.shape[0] != e.shape[0]:
        msg = f"{e.shape[0]} incident energies but {s.shape[0]} showers"
        raise DataFormatError(msg)
    if threshold:
        s = apply_threshold(s, geo.threshold_mev, copy=True)
    x_all = s.astype(np.float64, copy=False)
    # Sparsity counts voxels strictly above the threshold (docs/evaluation.md; the official
    # ``_calculate_sparsity(layer, threshold)``): a voxel exactly at the threshold survives the cut
    # (``< threshold`` -> 0) but does not count as filled. Like the cut, the comparison is made in the
    # showers' own dtype (a Python float against float32 data compares in float32).
    thr = float(geo.threshold_mev)
    n, n_layers = s.shape[0], geo.n_layers
    alpha_pos = alpha_binned_positions(geo)
    e_layer = np.empty((n, n_layers))
    ec_r = np.empty((n, n_layers))
    width_r = np.empty((n, n_layers))
    sparsity = np.empty((n, n_layers))
    eta_cols = [np.empty((n, len(alpha_pos))) for _ in range(4)]
    r, eta, phi = geo.voxel_r, geo.voxel_eta, geo.voxel_phi
    for pos in range(n_layers):
        sl = geo.layer_slice(pos)
        x = x_all[:, sl]
        tot = x.sum(axis=1)
        e_layer[:, pos] = tot
        sparsity[:, pos] = 1.0 - (s[:, sl] > thr).mean(axis=1)  # compared in the showers' dtype
        ec_r[:, pos], width_r[:, pos] = _layer_moments(x, r[sl], tot)
        if pos in alpha_pos:
            j = alpha_pos.index(pos)
            eta_cols[0][:, j], eta_cols[2][:, j] = _layer_moments(x, eta[sl], tot)
            eta_cols[1][:, j], eta_cols[3][:, j] = _layer_moments(x, phi[sl], tot)
    return HighLevelFeatures(
        geometry=geo,
        energies=e,
        e_tot=x_all.sum(axis=1),
        e_layer=e_layer,
        ec_r=ec_r,
        width_r=width_r,
        sparsity=sparsity,
        ec_eta=eta_cols[0],
        ec_phi=eta_cols[1],
        width_eta=eta_cols[2],
        width_phi=eta_cols[3],
    )


class FeatureAccumulator:
    """Collect features block by block (the blocks are small; the showers are not kept).

    Args:
        geometry: the geometry of every block.
        threshold: apply the readout threshold to each block first (on a copy).
    """

    def __init__(self, geometry: str | Geometry, threshold: bool = True) -> None:
        self.geometry = get_geometry(geometry)
        self.threshold = threshold
        self._parts: list[HighLevelFeatures] = []

    def add(self, energies: np.ndarray, showers: np.ndarray) -> HighLevelFeatures:
        """Compute and keep the features of one block; returns them."""
        part = compute_features(energies, showers, self.geometry, threshold=self.threshold)
        self._parts.append(part)
        return part

    def result(self) -> HighLevelFeatures:
        """All blocks added so far, concatenated."""
        if not self._parts:
            return compute_features(np.empty(0), np.empty((0, self.geometry.n_voxels), dtype=np.float32), self.geometry)
        out = HighLevelFeatures.concatenate(self._parts)
        self._parts = [out]
        return out


def features_from_file(
    source: str | Path | ShowerFile,
    geometry: str | Geometry | None = None,
    chunk_rows: int | None = None,
    start: int = 0,
    stop: int | None = None,
    progress: bool | str = False,
) -> HighLevelFeatures:
    """Stream a CaloChallenge file and compute its high-level features in bounded memory.

    Args:
        source: a path or an open :class:`ShowerFile`.
        geometry: geometry to validate against (default: from the voxel count).
        chunk_rows: rows per block (default: about 64 MiB of showers).
        start, stop: event range.
        progress: show a tqdm bar (a string sets its label).

    Raises:
        DataFormatError: invalid file or values (checked block by block).
    """
    own = not isinstance(source, ShowerFile)
    f = source if isinstance(source, ShowerFile) else ShowerFile(source, geometry)
    try:
        acc = FeatureAccumulator(f.geometry, threshold=False)
        blocks: Iterable[tuple[np.ndarray, np.ndarray]] = f.iter_chunks(
            chunk_rows, start=start, stop=stop, progress=progress
        )
        for e, s in blocks:
            apply_threshold(s, f.geometry.threshold_mev)  # in place: the block is ours
            acc.add(e, s)
        return acc.result()
    finally:
        if own:
            f.close()
