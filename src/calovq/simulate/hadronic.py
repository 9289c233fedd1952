"""Charged-pion showers in the ATLAS barrel stack (dataset 1 pions; physics.md section 5).

Construction, per pion of momentum p (the dataset label; kinetic energy E_k = sqrt(p^2 + m^2) - m is what
can be deposited):

1. **First interaction** at depth z0 ~ Exp(lambda_pi), lambda_pi = 1.2 lambda_I, measured in cumulative
   lambda_I of the stack. A pion that ranges out first (its ionisation loss reaches E_k) never showers.
2. **Before z0** it is a minimum-ionising track: every readout slab crossed gets its EM-scale MIP signal
   (dE/e-over-mip) times the crossed fraction, with Landau (Moyal) fluctuations, on the axis.
3. **EM fraction** f_em: mean 1 - (E / 1 GeV)^(m - 1) with m = 0.83 (Groom; PDG calorimetry review),
   clamped at 0, drawn per event from a Beta distribution of width ``pion_fem_sigma``.
4. **EM part**: f_em E split (Dirichlet) into pi0 sub-showers, each a GFlash photon shower
   (:mod:`calovq.simulate.em`) starting at z0 plus an exponential offset along the cascade.
5. **Non-EM part**: the hadronic term of Bock et al. (NIM 186 (1981) 533), a Gamma profile in lambda_I
   from z0 with shape a = 0.6165 + 0.3193 ln E and rate d = 0.9099 - 0.0237 ln E (per-event log-normal
   jitter of both), read out at h/e of the slab (non-compensation: e/h = 1.74 LAr, 1.3 Tile).
6. **Lateral**: EM part as GFlash in the local R_M; non-EM part an areal density ~ exp(-r/b), a narrow core
   (b = 0.04 lambda_I) plus a halo whose b = (0.1 + 0.05 x) lambda_I grows with the depth x after z0
   (about 95% within 1 lambda_I at the shower maximum).

Energy in dead material (in front of the presampler, the cryostat) and behind the Tile is lost, which with
non-compensation gives an EM-scale response of roughly 0.5-0.85 with a long low tail.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammainc

from calovq.simulate.config import SimConfig
from calovq.simulate.detectors import Stack
from calovq.simulate.em import add_em_showers, sample_em_showers
from calovq.simulate.readout import (
    compound_poisson,
    layer_means_to_voxels,
    moyal,
    track_voxels,
    voxel_spot_means,
)

__all__ = ["PION_MASS_GEV", "em_fraction_mean", "simulate_pions"]

PION_MASS_GEV = 0.13957
#: Groom's power-law exponent m of the EM fraction, 1 - (E/E0)^(m-1) with E0 = 1 GeV.
FEM_EXPONENT = 0.83
#: Mean depth (lambda_I) of the 2nd, 3rd, ... pi0 sub-shower after the first interaction.
SUBSHOWER_OFFSET_LAMBDA = 0.4
#: Transverse spread (mm) of the track's crossing point in a layer.
TRACK_SIGMA_MM = 2.0


def em_fraction_mean(e_gev: np.ndarray) -> np.ndarray:
    """Mean EM fraction of a hadron shower, 1 - (E / 1 GeV)^(m - 1), m = 0.83, clamped to [0, 0.95]."""
    e = np.maximum(np.asarray(e_gev, dtype=np.float64), 1e-6)
    return np.clip(1.0 - e ** (FEM_EXPONENT - 1.0), 0.0, 0.95)


def _beta_draw(mean: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Beta variates with the given means and (at most) standard deviation ``sigma``."""
    out = np.zeros_like(mean)
    ok = mean > 1e-3
    if sigma <= 0:
        return mean.copy()
    m = mean[ok]
    s = np.minimum(sigma, 0.9 * np.sqrt(m * (1.0 - m)))
    nu = m * (1.0 - m) / s**2 - 1.0
    out[ok] = rng.beta(m * nu, (1.0 - m) * nu)
    return out


def _cdf_2d_exp(r: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Fraction within radius r of an areal density ~ exp(-r / b)."""
    x = r / b
    return 1.0 - (1.0 + x) * np.exp(-x)


def _mip_track(stack: Stack, z_end: np.ndarray, rng: np.random.Generator, out: np.ndarray) -> None:
    """Add the EM-scale MIP signals of the track up to depth ``z_end`` (lambda_I) into ``out`` (MeV)."""
    geo = stack.geometry
    lam = stack.lambda_edges
    for i, region in enumerate(stack.regions):
        if region.layer < 0 or region.mip_gev <= 0:
            continue
        frac = np.clip((z_end - lam[i]) / region.t_lambda, 0.0, 1.0)
        rows = np.flatnonzero(frac > 0)
        if rows.size == 0:
            continue
        signal = region.mip_gev * 1e3 * frac[rows]
        signal *= np.maximum(1.0 + region.mip_width * (moyal(rng, rows.size) - 1.27), 0.05)
        idx = track_voxels(geo, np.full(rows.size, region.layer), rng, TRACK_SIGMA_MM)
        ok = idx >= 0
        np.add.at(out, (rows[ok], idx[ok]), signal[ok])


def _hadronic_layer_means(
    stack: Stack, z0: np.ndarray, e_had_mev: np.ndarray, e_gev: np.ndarray, rng: np.random.Generator
) -> list[np.ndarray]:
    """Mean EM-scale signal of the non-EM part per binned layer and ring, each (n, n_r) in MeV."""
    n = z0.shape[0]
    ln_e = np.log(np.maximum(e_gev, 0.05))
    a = np.maximum(0.6165 + 0.3193 * ln_e, 0.6) * np.exp(0.15 * rng.standard_normal(n))
    d = np.maximum(0.9099 - 0.0237 * ln_e, 0.5) * np.exp(0.10 * rng.standard_normal(n))
    steps = stack.substeps
    edges = np.concatenate([steps.l_lo, steps.l_hi[-1:]])
    cdf = gammainc(a[:, None], d[:, None] * np.maximum(edges[None, :] - z0[:, None], 0.0))
    h_over_e = np.array([r.h_over_e for r in stack.regions])[steps.region]
    w = np.diff(cdf, axis=1) * (e_had_mev[:, None] * h_over_e[None, :])  # (n, S)
    out = []
    for pos, layer in enumerate(stack.geometry.binned_layers):
        sel = np.flatnonzero(steps.layer == pos)
        if sel.size == 0:
            out.append(np.zeros((n, layer.n_r)))
            continue
        lam_mm = np.array([stack.regions[i].lambda_mm for i in steps.region[sel]])  # (s,)
        x = np.maximum(0.5 * (steps.l_lo[sel] + steps.l_hi[sel])[None, :] - z0[:, None], 0.0)  # (n, s)
        p_core = 0.5 * np.exp(-x / 2.0)
        b_core = 0.04 * lam_mm[None, :]
        b_halo = (0.1 + 0.05 * np.minimum(x, 4.0)) * lam_mm[None, :]
        r = np.asarray(layer.r_edges)[None, None, :]
        cdf_r = p_core[..., None] * _cdf_2d_exp(r, b_core[..., None]) + (1.0 - p_core[..., None]) * _cdf_2d_exp(
            r, b_halo[..., None]
        )
        out.append(np.einsum("ns,nsr->nr", w[:, sel], np.diff(cdf_r, axis=-1)))
    return out


def simulate_pions(
    stack: Stack, e_mev: np.ndarray, rng: np.random.Generator, config: SimConfig, out: np.ndarray
) -> None:
    """Add charged-pion showers of momenta ``e_mev`` (MeV) into ``out`` (n, n_voxels), EM scale, MeV."""
    geo = stack.geometry
    n = e_mev.shape[0]
    p_gev = e_mev / 1e3
    e_kin = np.sqrt(p_gev**2 + PION_MASS_GEV**2) - PION_MASS_GEV

    # 1-2: first interaction and the MIP track before it (or until the pion ranges out)
    lam = stack.lambda_edges
    cum_loss = np.concatenate([[0.0], np.cumsum([r.mip_true_gev for r in stack.regions])])
    z0 = rng.exponential(config.pion_lambda_factor, n)
    loss_z0 = np.interp(z0, lam, cum_loss)
    stopped = loss_z0 >= e_kin
    z_stop = np.interp(e_kin, cum_loss, lam, right=np.inf)
    z_track = np.minimum(np.where(stopped, z_stop, z0), lam[-1])
    e_avail = np.where(stopped, 0.0, e_kin - loss_z0)
    e_avail[z0 >= lam[-1]] = 0.0  # punch-through: only the track
    _mip_track(stack, z_track, rng, out)

    # 3: EM fraction per event
    f_em = _beta_draw(em_fraction_mean(e_avail), config.pion_fem_sigma, rng)

    # 4: EM part as pi0 sub-showers
    k = config.pion_em_subshowers
    share = rng.dirichlet(np.ones(k), n) if k > 1 else np.ones((n, 1))
    e_sub = (e_avail * f_em)[:, None] * share  # (n, K) GeV
    offsets = np.concatenate([np.zeros((n, 1)), rng.exponential(SUBSHOWER_OFFSET_LAMBDA, (n, k - 1))], axis=1)
    t_start = stack.lambda_to_x0((z0[:, None] + offsets).ravel())
    flat_e = np.maximum(e_sub.ravel(), 1e-4)
    showers = sample_em_showers(
        flat_e, stack.medium, rng, photon=True, t_start=t_start, radial_jitter=config.radial_jitter
    )
    add_em_showers(stack, showers, e_sub.ravel() * 1e3, config, rng, out, group=k)

    # 5-6: non-EM part
    had_means = _hadronic_layer_means(stack, z0, e_avail * (1.0 - f_em) * 1e3, np.maximum(e_avail, 1e-3), rng)

    _, eps_had = voxel_spot_means(stack, config.spot_shape)
    compound_poisson(layer_means_to_voxels(geo, had_means), eps_had, config.spot_shape, rng, out)
