"""Charged-pion showers in the ATLAS barrel stack (dataset 1 pions; physics.md section 5).

Construction, per pion of momentum p (the dataset label; kinetic energy E_k = sqrt(p^2 + m^2) - m is what
can be deposited):

1. **First interaction** at depth z0 ~ Exp(lambda_pi), lambda_pi = 1.2 lambda_I, measured in cumulative
   lambda_I of the stack. A pion that ranges out first (its ionisation loss reaches E_k) never showers.
2. **Before z0** it is a minimum-ionising track: every readout slab crossed gets its EM-scale MIP signal
   (dE/e-over-mip) times the crossed fraction, with Landau (Moyal) fluctuations, on the axis.
3. **EM fraction** f_em: mean 1 - (E / 1 GeV)^(m - 1) with m = 0.83 (Groom; PDG calorimetry review),
   clamped at 0, drawn per event from a Beta distribution of width ``pion_fem_sigma``.
4. **EM part**: f_em E split into ``pion_em_subshowers`` (8) pi0 sub-showers, one per generation of the
   cascade, each a GFlash photon shower (:mod:`calovq.simulate.em`); the first generation enters as the
   two photons of pi0 -> gamma gamma (uniform energy split). Generation j + 1 starts where the
   leading hadron interacts again, a Gamma(j, lambda_pi) depth after z0, and holds on average a share
   proportional to (2/3)^j (one produced pion in three is a pi0, isospin; Dirichlet-fluctuated with the
   total concentration <n_ch>, as for a multinomial split of that many pi0s). The
   EM energy thus follows the cascade into the Tile instead of being dumped at z0 (physics.md 5.5:
   "GFlash photon sub-showers along the cascade"), and the many sub-showers make the Tile layers move
   together (Geant4 Tile0-Tile1 / Tile1-Tile2 correlations 0.67 / 0.72).
5. **Non-EM part**: the hadronic term of Bock et al. (NIM 186 (1981) 533), a Gamma profile in lambda_I
   from z0 with shape a = 0.6165 + 0.3193 ln E and rate d = 0.9099 - 0.0237 ln E (per-event log-normal
   jitter of both), read out at h/e of the slab (non-compensation: e/h = 1.74 LAr, 1.3 Tile). Its rising
   edge x^(a - 1) is a fit to the bulk and puts almost nothing right after z0 at high energy; there the
   deposit is the ionisation of the <n_ch> ~ 6-24 charged secondaries (:func:`charged_multiplicity`),
   each a MIP until it interacts after Exp(lambda_pi). These tracks take their visible energy out of the
   Bock profile (h/e already averages over them). A pion interacting in the dead material in front of the
   presampler thus gives the presampler a signal that grows with E (as <n_ch>, ~E^0.25) in the same events
   whose EMB1 grows with E (Geant4 PS-EMB1 correlation 0.78; 0.41 without the tracks).
   Hadronic clumps in a slab are at most :data:`~calovq.simulate.readout.HAD_CLUMP_MIPS` MIP signals
   (a slow proton in the 11 mm presampler), and 5% of the non-EM energy is carried upstream by isotropic
   nuclear de-excitation photons (backsplash, mean free path 2 X0) and read out like EM energy.
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
from calovq.simulate.em import add_em_showers, albedo_kernel, sample_em_showers
from calovq.simulate.readout import (
    compound_poisson,
    layer_means_to_voxels,
    moyal,
    track_voxels,
    voxel_spot_means,
)

__all__ = ["PION_MASS_GEV", "charged_multiplicity", "em_fraction_mean", "simulate_pions"]

PION_MASS_GEV = 0.13957
#: Groom's power-law exponent m of the EM fraction, 1 - (E/E0)^(m-1) with E0 = 1 GeV.
FEM_EXPONENT = 0.83
#: Share of a generation's hadronic energy that goes into pi0s: one produced pion in three (isospin).
PI0_SHARE = 1.0 / 3.0
#: Charged multiplicity of a pion-nucleus interaction relative to pp (heavy nuclei, R_A ~ 1.5-2).
NUCLEAR_MULTIPLICITY_RATIO = 1.7
#: Share of the non-EM energy at each depth carried upstream by isotropic nuclear de-excitation photons.
BACKSPLASH_WEIGHT = 0.05
#: Their mean free path (X0): 1-2 MeV photons in the Pb/LAr accordion (mu/rho ~ 0.05 cm^2/g in Pb).
BACKSPLASH_X0 = 2.0
#: Transverse spread (mm) of the track's crossing point in a layer.
TRACK_SIGMA_MM = 2.0


def em_fraction_mean(e_gev: np.ndarray) -> np.ndarray:
    """Mean EM fraction of a hadron shower, 1 - (E / 1 GeV)^(m - 1), m = 0.83, clamped to [0, 0.95]."""
    e = np.maximum(np.asarray(e_gev, dtype=np.float64), 1e-6)
    return np.clip(1.0 - e ** (FEM_EXPONENT - 1.0), 0.0, 0.95)


def charged_multiplicity(e_gev: np.ndarray) -> np.ndarray:
    """Mean number of charged secondaries of a pion-nucleus interaction at energy ``e_gev``.

    The pp fit <n_ch> = 0.88 + 0.44 ln s + 0.118 ln^2 s (s = 2 m_p E in GeV^2; PDG/Wroblewski-type fits to
    fixed-target and ISR data) times the nuclear enhancement R_A ~ 1.7 of heavy targets (slow "grey"
    protons and cascade nucleons): about 6 at 16 GeV, 11 at 260 GeV, 24 at 4 TeV.
    """
    ln_s = np.log(np.maximum(2.0 * 0.938 * np.asarray(e_gev, dtype=np.float64), 1.0))
    return NUCLEAR_MULTIPLICITY_RATIO * np.maximum(0.88 + 0.44 * ln_s + 0.118 * ln_s**2, 0.0)


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


def _bock_parameters(e_gev: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Per-event shape a and rate d (per lambda_I) of Bock's hadronic Gamma profile, log-normally jittered."""
    n = e_gev.shape[0]
    ln_e = np.log(np.maximum(e_gev, 0.05))
    a = np.maximum(0.6165 + 0.3193 * ln_e, 0.6) * np.exp(0.15 * rng.standard_normal(n))
    d = np.maximum(0.9099 - 0.0237 * ln_e, 0.5) * np.exp(0.10 * rng.standard_normal(n))
    return a, d


def _hadronic_layer_means(
    stack: Stack,
    z0: np.ndarray,
    e_had_mev: np.ndarray,
    a: np.ndarray,
    d: np.ndarray,
    n_charged: np.ndarray,
    lambda_pi: float,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Mean EM-scale signal of the non-EM part per binned layer and ring, each (n, n_r) in MeV.

    Returns:
        (clumps, backsplash): the hadronic deposits proper, and the share :data:`BACKSPLASH_WEIGHT` carried
        upstream by isotropic nuclear de-excitation photons (absorbed with a mean free path of
        :data:`BACKSPLASH_X0`; what reaches the front face escapes), which is read out like EM energy.
    """
    n = z0.shape[0]
    steps = stack.substeps
    edges = np.concatenate([steps.l_lo, steps.l_hi[-1:]])
    # charged secondaries of the first interaction: each ionises like a MIP until it interacts itself
    # (Exp(lambda_pi)); expected path of one in step s is lambda_pi (e^(-x_lo/lambda_pi) - e^(-x_hi/lambda_pi))
    survive = np.exp(-np.maximum(edges[None, :] - z0[:, None], 0.0) / lambda_pi)
    path = -np.diff(survive, axis=1) * lambda_pi  # (n, S) in lambda_I
    t_lam = np.array([r.t_lambda for r in stack.regions])[steps.region]
    mip_vis = np.array([r.mip_gev for r in stack.regions])[steps.region] / t_lam * 1e3  # MeV per lambda_I
    tracks = n_charged[:, None] * path * mip_vis[None, :]
    cdf = gammainc(a[:, None], d[:, None] * np.maximum(edges[None, :] - z0[:, None], 0.0))
    h_over_e = np.array([r.h_over_e for r in stack.regions])[steps.region]
    bock = np.diff(cdf, axis=1) * (e_had_mev[:, None] * h_over_e[None, :])  # (n, S)
    # the tracks are part of the non-EM signal (h/e already averages over their ionisation): they take
    # their visible energy out of the Bock profile, keeping the event's non-EM response
    bock_sum, track_sum = bock.sum(axis=1), tracks.sum(axis=1)
    keep = np.clip(1.0 - track_sum / np.maximum(bock_sum, 1e-9), 0.0, 1.0)
    tracks *= np.minimum(1.0, bock_sum / np.maximum(track_sum, 1e-9))[:, None]
    w = bock * keep[:, None] + tracks
    kernel = albedo_kernel(np.concatenate([steps.t_lo, steps.t_hi[-1:]]), BACKSPLASH_X0)
    back = BACKSPLASH_WEIGHT * (w @ kernel.T)
    w = (1.0 - BACKSPLASH_WEIGHT) * w
    out: list[np.ndarray] = []
    out_back: list[np.ndarray] = []
    for pos, layer in enumerate(stack.geometry.binned_layers):
        sel = np.flatnonzero(steps.layer == pos)
        if sel.size == 0:
            out.append(np.zeros((n, layer.n_r)))
            out_back.append(np.zeros((n, layer.n_r)))
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
        ring = np.diff(cdf_r, axis=-1)
        out.append(np.einsum("ns,nsr->nr", w[:, sel], ring))
        out_back.append(np.einsum("ns,nsr->nr", back[:, sel], ring))
    return out, out_back


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
    z0 = np.asarray(rng.exponential(config.pion_lambda_factor, n))
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
    a, d = _bock_parameters(np.maximum(e_avail, 1e-3), rng)
    # generation j gets a share PI0_SHARE (1 - PI0_SHARE)^(j - 1) on average (isospin); the shares are
    # Dirichlet-distributed with total concentration <n_ch> (a multinomial split of ~<n_ch> pi0s)
    mean_share = (1.0 - PI0_SHARE) ** np.arange(k)
    conc = np.maximum(charged_multiplicity(e_avail), 1.0)[:, None] * (mean_share / mean_share.sum())[None, :]
    share = np.asarray(rng.gamma(conc))
    share /= share.sum(axis=1, keepdims=True)
    e_sub = (e_avail * f_em)[:, None] * share  # (n, K) GeV
    # the j-th pi0 sub-shower comes from the j-th generation of the cascade: the leading hadron interacts
    # again after Exp(lambda_pi), so generation j + 1 starts a Gamma(j, lambda_pi) depth after z0
    later = np.cumsum(rng.exponential(config.pion_lambda_factor, (n, k - 1)), axis=1)
    # the first generation's pi0s enter as two photons with independent conversion depths (pi0 -> gamma
    # gamma: for an isotropic decay the lab energy fraction of one photon is uniform on [0, 1])
    z = np.asarray(rng.uniform(0.0, 1.0, n))
    e_sub = np.concatenate([e_sub[:, :1] * z[:, None], e_sub[:, :1] * (1.0 - z[:, None]), e_sub[:, 1:]], axis=1)
    offsets = np.concatenate([np.zeros((n, 2)), later], axis=1)
    t_start = stack.lambda_to_x0((z0[:, None] + offsets).ravel())
    flat_e = np.maximum(e_sub.ravel(), 1e-4)
    showers = sample_em_showers(
        flat_e, stack.medium, rng, photon=True, t_start=t_start, radial_jitter=config.radial_jitter
    )
    add_em_showers(stack, showers, e_sub.ravel() * 1e3, config, rng, out, group=k + 1)

    # 5-6: non-EM part
    n_ch = charged_multiplicity(e_avail) * (e_avail > 0)
    had_means, back_means = _hadronic_layer_means(
        stack, z0, e_avail * (1.0 - f_em) * 1e3, a, d, n_ch, config.pion_lambda_factor
    )

    eps_em, eps_had = voxel_spot_means(stack, config.spot_shape)
    compound_poisson(layer_means_to_voxels(geo, had_means), eps_had, config.spot_shape, rng, out)
    compound_poisson(layer_means_to_voxels(geo, back_means), eps_em, config.spot_shape, rng, out)
