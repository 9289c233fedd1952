"""Histogram comparison with the official CaloChallenge binnings and the separation power.

The separation power is the triangular discrimination of eq. 15 of arXiv:2009.03796 as used by the
CaloChallenge 2022 evaluation (arXiv:2410.21611): both samples are histogrammed with the same bins and
normalised like ``numpy.histogram(..., density=True)``; multiplied by the bin widths they sum to 1, and

    S = 1/2 * sum_i (h1_i - h2_i)^2 / (h1_i + h2_i + 1e-16),

which is 0 for identical and 1 for disjoint histograms. Histograms are accumulated as integer counts chunk
by chunk (:class:`HistogramAccumulator`), so no sample is held in memory; bins that depend on the
reference (``E_layer`` and voxel-energy edges end at the reference maximum) are fixed from a first pass.
A histogram with no entry in range has no density: its separation power is NaN (as in the official
script) and it is left out of the mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from calovq.evaluate.features import HighLevelFeatures
from calovq.geometry import Geometry

__all__ = [
    "HistogramAccumulator",
    "HistogramResult",
    "HistogramSpec",
    "compare_features",
    "density",
    "ds1_energy_ranges",
    "feature_specs",
    "log_edges",
    "mean_separation",
    "separation_power",
    "separation_power_counts",
    "voxel_spec",
]


def density(counts: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``numpy.histogram(density=True)`` from counts: ``counts / widths / counts.sum()``.

    Returns NaN everywhere when the histogram is empty (numpy would warn and do the same).
    """
    c = np.asarray(counts, dtype=np.float64)
    total = c.sum()
    if total <= 0:
        return np.full(c.shape, np.nan)
    return c / np.diff(edges) / total


def separation_power(hist1: np.ndarray, hist2: np.ndarray, edges: np.ndarray) -> float:
    """Separation power of two *density* histograms on ``edges`` (eq. 15 of arXiv:2009.03796).

    Args:
        hist1, hist2: densities as from ``numpy.histogram(..., density=True)``.
        edges: the common bin edges.

    Returns:
        S in [0, 1]: 0 for identical, 1 for disjoint histograms; NaN if either density is NaN.
    """
    widths = np.diff(np.asarray(edges, dtype=np.float64))
    p = np.asarray(hist1, dtype=np.float64) * widths
    q = np.asarray(hist2, dtype=np.float64) * widths
    if np.isnan(p).any() or np.isnan(q).any():
        return math.nan
    return float(0.5 * ((p - q) ** 2 / (p + q + 1e-16)).sum())


def separation_power_counts(counts1: np.ndarray, counts2: np.ndarray, edges: np.ndarray) -> float:
    """Separation power of two histograms given as raw counts on the same ``edges``."""
    return separation_power(density(counts1, edges), density(counts2, edges), edges)


def log_edges(lo: float, hi: float, n_edges: int) -> np.ndarray:
    """``logspace(log10(lo), log10(hi), n_edges)``; if ``hi <= lo`` one decade above ``lo`` is used."""
    if not (hi > lo):
        hi = lo * 10.0
    return np.logspace(np.log10(lo), np.log10(hi), n_edges)


@dataclass(frozen=True)
class HistogramSpec:
    """One histogram of the evaluation.

    Attributes:
        key: unique name, e.g. ``"E_layer_12"``, ``"EC_eta_3"``, ``"E_ratio"``, ``"voxel"``.
        group: feature family (``"E_ratio"``, ``"E_ratio_per_energy"``, ``"E_layer"``, ``"EC_eta"``,
            ``"EC_phi"``, ``"width_eta"``, ``"width_phi"``, ``"EC_r"``, ``"width_r"``, ``"sparsity"``,
            ``"voxel"``).
        edges: bin edges.
        layer: layer id, if per layer.
        attr, column: where the values come from in :class:`HighLevelFeatures` (column None = 1-d).
        einc_range: for the dataset-1 per-energy histograms, the [lo, hi) incident-energy window.
        title, xlabel: for plots; logx: log-spaced bins.
    """

    key: str
    group: str
    edges: np.ndarray = field(compare=False)
    layer: int | None = None
    attr: str | None = None
    column: int | None = None
    einc_range: tuple[float, float] | None = None
    title: str = ""
    xlabel: str = ""
    logx: bool = False

    def values(self, features: HighLevelFeatures) -> np.ndarray:
        """The values this histogram takes from ``features``."""
        if self.attr is None:
            msg = f"histogram {self.key!r} is filled from voxels, not from features"
            raise ValueError(msg)
        v = getattr(features, self.attr)
        if self.column is not None:
            v = v[:, self.column]
        if self.einc_range is not None:
            lo, hi = self.einc_range
            v = v[(features.energies >= lo) & (features.energies < hi)]
        return np.asarray(v)


_TITLES = {
    "E_layer": ("Energy deposited in layer {}", "E [MeV]"),
    "EC_eta": ("Centre of energy in eta, layer {}", "[mm]"),
    "EC_phi": ("Centre of energy in phi, layer {}", "[mm]"),
    "width_eta": ("Width in eta, layer {}", "[mm]"),
    "width_phi": ("Width in phi, layer {}", "[mm]"),
    "EC_r": ("Centre of energy in r, layer {}", "[mm]"),
    "width_r": ("Width in r, layer {}", "[mm]"),
    "sparsity": ("Sparsity, layer {}", "fraction of empty voxels"),
}


def _ranges(geometry: Geometry, layer: int) -> dict[str, tuple[float, float]]:
    """Official histogram ranges for one layer (101 edges each except sparsity)."""
    if not geometry.discrete_energies_mev:  # datasets 2 and 3 (and the regular test geometries)
        return {"EC": (-30.0, 30.0), "width": (0.0, 30.0), "EC_r": (0.0, 42.0), "width_r": (0.0, 20.0)}
    ec = (-500.0, 500.0) if layer in (12, 13) else (-100.0, 100.0)
    width = (0.0, 400.0) if layer in (12, 13) else (0.0, 100.0)
    big_r = layer in (12, 13, 14)
    r = (0.0, 1500.0) if big_r else (0.0, 500.0)
    return {"EC": ec, "width": width, "EC_r": r, "width_r": r}


def ds1_energy_ranges(geometry: Geometry) -> list[tuple[float, float, np.ndarray]]:
    """Incident-energy windows and E_tot/E_inc edges of the dataset-1 per-energy histograms.

    Windows ``[2^k, 2^(k+1))`` for k = 8..22; edges ``linspace(0.4, 1.4, 21)``, and for photons from the
    5th energy on (>= 4.1 GeV) ``linspace(0.9, 1.1, 21)``. Empty for continuous-energy datasets.
    """
    if not geometry.discrete_energies_mev:
        return []
    targets = 2.0 ** np.linspace(8, 23, 16)
    out = []
    for i in range(len(targets) - 1):
        narrow = i > 3 and geometry.particle == "photon"
        edges = np.linspace(0.9, 1.1, 21) if narrow else np.linspace(0.4, 1.4, 21)
        out.append((float(targets[i]), float(targets[i + 1]), edges))
    return out


def feature_specs(geometry: Geometry, reference: HighLevelFeatures) -> list[HistogramSpec]:
    """All feature histograms of the official evaluation, with bins fixed by ``reference``.

    E_tot/E_inc (100 bins on [0.5, 1.5]) and, for dataset 1, per incident energy; per binned layer E_layer
    (40 log-spaced edges from the threshold to the reference maximum), EC_r, width_r, sparsity
    (``linspace(0, 1, 21)``); per alpha-binned layer EC and width in eta and phi.
    """
    thr = geometry.threshold_mev
    specs = [
        HistogramSpec(
            "E_ratio", "E_ratio", np.linspace(0.5, 1.5, 101), attr="e_ratio",
            title="E_tot / E_inc", xlabel="E_tot / E_inc",
        )
    ]  # fmt: skip
    for lo, hi, edges in ds1_energy_ranges(geometry):
        specs.append(
            HistogramSpec(
                f"E_ratio_E{int(lo)}", "E_ratio_per_energy", edges, attr="e_ratio", einc_range=(lo, hi),
                title=f"E_tot / E_inc at E_inc = {lo:g} MeV", xlabel="E_tot / E_inc",
            )
        )  # fmt: skip
    ids = geometry.layer_ids
    for col, lid in enumerate(ids):
        ref_max = float(reference.e_layer[:, col].max()) if len(reference) else thr
        t, x = _TITLES["E_layer"]
        specs.append(
            HistogramSpec(
                f"E_layer_{lid}", "E_layer", log_edges(thr, ref_max, 40), lid, "e_layer", col,
                title=t.format(lid), xlabel=x, logx=True,
            )
        )  # fmt: skip
    alpha_ids = reference.alpha_layer_ids
    for group, attr, rng in (
        ("EC_eta", "ec_eta", "EC"),
        ("EC_phi", "ec_phi", "EC"),
        ("width_eta", "width_eta", "width"),
        ("width_phi", "width_phi", "width"),
    ):
        for col, lid in enumerate(alpha_ids):
            t, x = _TITLES[group]
            edges = np.linspace(*_ranges(geometry, lid)[rng], 101)
            specs.append(HistogramSpec(f"{group}_{lid}", group, edges, lid, attr, col, title=t.format(lid), xlabel=x))
    for group, attr in (("EC_r", "ec_r"), ("width_r", "width_r"), ("sparsity", "sparsity")):
        for col, lid in enumerate(ids):
            t, x = _TITLES[group]
            if group == "sparsity":
                edges = np.linspace(0.0, 1.0, 21)
            else:
                edges = np.linspace(*_ranges(geometry, lid)[group], 101)
            specs.append(HistogramSpec(f"{group}_{lid}", group, edges, lid, attr, col, title=t.format(lid), xlabel=x))
    return specs


def voxel_spec(geometry: Geometry, reference_max: float) -> HistogramSpec:
    """The voxel-energy spectrum: 50 log-spaced edges from the threshold to the reference maximum."""
    return HistogramSpec(
        "voxel", "voxel", log_edges(geometry.threshold_mev, reference_max, 50),
        title="Voxel energy distribution", xlabel="E [MeV]", logx=True,
    )  # fmt: skip


@dataclass
class HistogramResult:
    """Counts of both samples in one histogram and their separation power."""

    spec: HistogramSpec
    counts_ref: np.ndarray
    counts_gen: np.ndarray

    @property
    def separation(self) -> float:
        return separation_power_counts(self.counts_ref, self.counts_gen, self.spec.edges)

    def to_dict(self) -> dict[str, object]:
        sep = self.separation
        return {
            "group": self.spec.group,
            "layer": self.spec.layer,
            "separation_power": None if math.isnan(sep) else sep,
            "entries_reference": int(self.counts_ref.sum()),
            "entries_generated": int(self.counts_gen.sum()),
            "n_bins": len(self.spec.edges) - 1,
            "range": [float(self.spec.edges[0]), float(self.spec.edges[-1])],
        }


class HistogramAccumulator:
    """Integer counts of one histogram, filled chunk by chunk (``np.histogram`` semantics)."""

    def __init__(self, edges: np.ndarray) -> None:
        self.edges = np.asarray(edges, dtype=np.float64)
        self.counts = np.zeros(len(self.edges) - 1, dtype=np.int64)

    def fill(self, values: np.ndarray) -> None:
        """Add values; NaN and values outside the edges are ignored, the last bin includes its right edge."""
        v = np.asarray(values).reshape(-1)
        if v.size:
            self.counts += np.histogram(v, bins=self.edges)[0]


def compare_features(
    reference: HighLevelFeatures, generated: HighLevelFeatures, specs: list[HistogramSpec]
) -> list[HistogramResult]:
    """Histogram both feature sets with ``specs`` (feature histograms only) and return the results."""
    out = []
    for spec in specs:
        if spec.attr is None:
            continue
        ref = HistogramAccumulator(spec.edges)
        gen = HistogramAccumulator(spec.edges)
        ref.fill(spec.values(reference))
        gen.fill(spec.values(generated))
        out.append(HistogramResult(spec, ref.counts, gen.counts))
    return out


def mean_separation(results: list[HistogramResult], exclude_groups: tuple[str, ...] = ()) -> dict[str, object]:
    """Mean separation power over all finite histograms and per group.

    Returns:
        ``{"mean": float | None, "n_histograms": int, "n_undefined": int, "per_group": {group: mean}}``.
    """
    by_group: dict[str, list[float]] = {}
    undefined = 0
    for r in results:
        if r.spec.group in exclude_groups:
            continue
        s = r.separation
        if math.isnan(s):
            undefined += 1
            continue
        by_group.setdefault(r.spec.group, []).append(s)
    values = [v for vs in by_group.values() for v in vs]
    return {
        "mean": float(np.mean(values)) if values else None,
        "max": float(np.max(values)) if values else None,
        "n_histograms": len(values),
        "n_undefined": undefined,
        "per_group": {g: float(np.mean(v)) for g, v in by_group.items()},
    }
