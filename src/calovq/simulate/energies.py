"""Incident energies as in the official CaloChallenge 2022 samples.

- Dataset 1 (photons, pions): the discrete energies 2^8 ... 2^22 MeV, drawn with the official per-energy
  proportions (10k showers per energy, fewer at the top four; :func:`calovq.geometry.dataset1_energy_counts`).
- Datasets 2, 3 and ``tiny``: log-uniform in 1 GeV - 1 TeV (Par04, CaloChallenge README).
- A fixed list: showers cycle through the given energies in order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from calovq.exceptions import EnergyRangeError
from calovq.geometry import Geometry, dataset1_energy_counts

__all__ = ["SIM_ENERGY_RANGE_MEV", "fixed_energies", "sample_energies"]

#: Incident energies the parametrisations are used for (MeV): GFlash fits hold from ~0.1 GeV to a few TeV.
SIM_ENERGY_RANGE_MEV = (100.0, 1.0e7)


def sample_energies(geometry: Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` incident energies (MeV) with the official distribution of ``geometry``'s dataset."""
    if geometry.discrete_energies_mev:
        counts = dataset1_energy_counts(geometry)
        values = np.array(list(counts), dtype=np.float64)
        prob = np.array(list(counts.values()), dtype=np.float64)
        return rng.choice(values, size=n, p=prob / prob.sum())
    lo, hi = geometry.energy_range_mev
    return np.exp(rng.uniform(math.log(lo), math.log(hi), n))


def fixed_energies(energies: Sequence[float] | np.ndarray, n: int) -> np.ndarray:
    """``n`` incident energies cycling through ``energies`` (MeV), validated.

    Raises:
        EnergyRangeError: an empty list, or a value that is not finite or outside 0.1 GeV - 10 TeV.
    """
    e = np.asarray(energies, dtype=np.float64).reshape(-1)
    if e.size == 0:
        msg = "the list of incident energies is empty"
        raise EnergyRangeError(msg)
    lo, hi = SIM_ENERGY_RANGE_MEV
    bad = ~np.isfinite(e) | (e < lo) | (e > hi)
    if bad.any():
        msg = (
            f"incident energy {float(e[np.argmax(bad)])!r} MeV is outside the simulator's range "
            f"{lo:g} - {hi:g} MeV (energies are in MeV)"
        )
        raise EnergyRangeError(msg)
    return np.resize(e, n)
