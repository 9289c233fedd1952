"""One block of showers: dispatch to the EM or pion model, then constant term and readout threshold."""

from __future__ import annotations

import numpy as np

from calovq.geometry import Geometry
from calovq.simulate.config import SimConfig
from calovq.simulate.detectors import Stack, build_stack
from calovq.simulate.em import add_em_showers, sample_em_showers
from calovq.simulate.hadronic import simulate_pions
from calovq.simulate.readout import (
    moyal,
    track_voxels,
)

__all__ = ["particle_of", "simulate_block"]

#: Transverse spread (mm) of the primary e+- track around the axis in the Par04 stack.
PRIMARY_SIGMA_MM = 0.3
#: Relative Moyal width of the signal of one 0.3 mm Si layer.
SI_MIP_WIDTH = 0.12


def particle_of(geometry: Geometry, config: SimConfig) -> str:
    """The simulated particle: the config's override, else the geometry's."""
    return config.particle or geometry.particle


def _primary_track(stack: Stack, e_mev: np.ndarray, rng: np.random.Generator, out: np.ndarray) -> np.ndarray:
    """Ionisation of the incident e+- in the first X0 (Par04); returns the energy used per shower (MeV).

    The primary keeps ionising until it has radiated most of its energy, about ln(E/E_c) X0; its end is
    drawn uniformly in [0.5, 1] ln(E/E_c). Each readout layer crossed gets ``track_si_layers`` Si MIP
    signals (most probable 84 keV / 0.033, Moyal fluctuations) on the shower axis.
    """
    n = e_mev.shape[0]
    ln_y = np.log(np.maximum(e_mev / stack.medium.ec_mev, 1.0))
    t_end = ln_y * rng.uniform(0.5, 1.0, n)
    first = [stack.layer_regions(k)[0] for k in range(stack.geometry.n_layers)]
    starts = stack.x0_edges[first]
    mids = 0.5 * (starts + stack.x0_edges[np.add(first, 1)])
    rows, layers = np.nonzero(starts[None, :] < t_end[:, None])
    # e+e- pairs of bremsstrahlung photons converted before depth t (t <~ 1 X0):
    # N ~ 2 (4/3 ln(E / 5 MeV)) (7/9) t^2 / 2 = 1.04 ln(E / 5 MeV) t^2 (Bethe-Heitler, PDG)
    t_mid = mids[layers]
    pairs = 1.04 * np.log(np.maximum(e_mev[rows] / 5.0, 1.0)) * t_mid**2
    tracks = 1 + rng.poisson(np.where(t_mid <= 1.0, pairs, 0.0))
    m = stack.track_si_layers * tracks  # Si layers crossed, per (shower, layer)
    mpv = stack.track_mip_mev
    land = moyal(rng, (rows.size, int(m.max(initial=1))))
    land[np.arange(land.shape[1])[None, :] >= m[:, None]] = 0.0
    signal = mpv * (m + SI_MIP_WIDTH * land.sum(axis=1))
    idx = track_voxels(stack.geometry, layers, rng, PRIMARY_SIGMA_MM)
    ok = idx >= 0
    np.add.at(out, (rows[ok], idx[ok]), signal[ok])
    used = np.zeros(n)
    np.add.at(used, rows, signal)
    return used


def simulate_block(
    geometry: Geometry, energies_mev: np.ndarray, rng: np.random.Generator, config: SimConfig
) -> np.ndarray:
    """Simulate showers for ``energies_mev`` (n,): float32 (n, n_voxels) in MeV.

    Args:
        geometry: readout geometry (selects the detector stack).
        energies_mev: incident energies (momenta for pions) in MeV.
        rng: random generator of this block.
        config: simulator settings.
    """
    stack = build_stack(geometry, config)
    particle = particle_of(geometry, config)
    e = np.asarray(energies_mev, dtype=np.float64)
    n = e.shape[0]
    out = np.zeros((n, geometry.n_voxels), dtype=np.float64)
    if particle == "pion":
        simulate_pions(stack, e, rng, config, out)
    else:
        e_profile = e.copy()
        if particle == "electron" and config.primary_track and stack.track_si_layers > 0:
            used = _primary_track(stack, e, rng, out)
            e_profile = np.maximum(e - used, 0.5 * e)
        showers = sample_em_showers(
            e / 1e3, stack.medium, rng, photon=particle == "photon", radial_jitter=config.radial_jitter
        )
        add_em_showers(stack, showers, e_profile, config, rng, out)
    if config.constant_term > 0:
        out *= np.maximum(1.0 + config.constant_term * rng.standard_normal(n), 0.0)[:, None]
    if stack.threshold_mev > 0:
        out[out < stack.threshold_mev] = 0.0
    return out.astype(np.float32)
