"""Electromagnetic showers: the GFlash parametrisation (Grindhammer & Peters, hep-ex/0001020).

Per shower, the longitudinal profile is a Gamma distribution in depth t (X0 of the effective medium),

    (1/E) dE/dt = beta (beta t)^(alpha - 1) exp(-beta t) / Gamma(alpha),   T = (alpha - 1) / beta,

with (ln T, ln alpha) drawn from a correlated bivariate normal whose means, widths and correlation are the
sampling-calorimeter tuning (physics.md section 1; GFlash ``GFlashSamplingShowerTuning``). The energy of
a depth slice is E [P(alpha, beta t2) - P(alpha, beta t1)] with P the regularised incomplete Gamma
function. Photons start after an exponential conversion depth of mean 9/7 X0.
Three physical additions (:func:`step_energies`): before the Gamma's steep rising edge overtakes it, the
first X0 deposit the ionisation E_c N(t) of Greisen's particle count (:func:`greisen_particles`); soft
photons carry a share of each depth's energy backwards (albedo, :func:`albedo_kernel`); and a late tail
at the attenuation-minimum length holds energy the Gamma fit lacks.

The lateral profile at a depth is the two-component function (physics.md section 2)

    f(r) = p 2 r R_C^2 / (r^2 + R_C^2)^2 + (1 - p) 2 r R_T^2 / (r^2 + R_T^2)^2        (r in R_M),

whose cumulative fraction r^2 / (r^2 + R^2) per component gives each radial ring's share analytically;
R_C, R_T and p depend on the scaled depth tau = (t / T_i) ((alpha_i - 1) / alpha_i) (abar / (abar - 1))
evaluated at the centre of each step, with the homogeneous GFlash parameters plus the sampling
corrections in (1 - e/mip) and 1/F_s. Energy beyond the outermost ring or behind the stack is lost
(lateral and longitudinal leakage). The numerical guards of Geant4 are kept (sigma <= 0.5, T >= 1 X0,
alpha >= 1.1, log arguments >= 0.1); the critical energy is the PDG one (no X0-in-mm pitfall).

This module returns the *mean* energy per (layer, ring) of each shower given its fluctuated profile;
:mod:`calovq.simulate.readout` turns means into spot-sampled voxel energies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammainc

from calovq.simulate.config import SimConfig
from calovq.simulate.detectors import Stack
from calovq.simulate.materials import SamplingMedium
from calovq.simulate.readout import compound_poisson, layer_means_to_voxels, voxel_spot_means

__all__ = [
    "CONVERSION_DEPTH_X0",
    "EMShowers",
    "add_em_showers",
    "albedo_kernel",
    "early_fractions",
    "em_layer_means",
    "gflash_means",
    "greisen_particles",
    "longitudinal_fractions",
    "radial_parameters",
    "sample_em_showers",
    "step_energies",
]

#: Mean photon conversion depth, 9/7 X0 (GFlash ``GenerateExponential``; PDG).
CONVERSION_DEPTH_X0 = 9.0 / 7.0
#: Largest scaled depth used in the radial parametrisation (as in CMSSW).
TAU_MAX = 10.0


@dataclass(frozen=True)
class EMShowers:
    """Per-shower GFlash parameters (all arrays of shape (n,)).

    Attributes:
        e_gev: shower energy in GeV.
        t0: depth (X0) where the profile starts (0 for e+-, the conversion depth for photons).
        T: depth of the maximum after ``t0`` (X0).
        alpha: Gamma shape.
        alpha_bar: exp of the mean ln alpha (enters the scaled depth).
        rc_scale: per-shower multiplicative jitter of the core radius.
        rt_scale: per-shower multiplicative jitter of the tail radius.
    """

    e_gev: np.ndarray
    t0: np.ndarray
    T: np.ndarray
    alpha: np.ndarray
    alpha_bar: np.ndarray
    rc_scale: np.ndarray
    rt_scale: np.ndarray

    @property
    def beta(self) -> np.ndarray:
        return (self.alpha - 1.0) / self.T


def gflash_means(e_gev: np.ndarray, medium: SamplingMedium) -> dict[str, np.ndarray]:
    """Means, widths and correlation of (ln T, ln alpha) for a sampling calorimeter (physics.md section 1).

    Returns:
        dict with ``lnT``, ``lnA``, ``sT``, ``sA``, ``rho`` (arrays like ``e_gev``).
    """
    ln_y = np.log(np.maximum(1e3 * np.asarray(e_gev, dtype=np.float64) / medium.ec_mev, 1.0001))
    z, fs, ehat = medium.z_eff, medium.fs, medium.ehat
    t_hom = np.maximum(ln_y - 0.812, 0.1)
    a_hom = np.maximum(0.81 + (0.458 + 2.26 / z) * ln_y, 0.1)
    lnT = np.log(np.maximum(t_hom - 0.55 / fs - 0.69 * (1.0 - ehat), 0.1))
    lnA = np.log(np.maximum(a_hom - 0.476 / fs, 0.1))

    def _sigma(den: np.ndarray) -> np.ndarray:
        return np.where(den > 2.0, 1.0 / np.maximum(den, 2.0), 0.5)

    return {
        "lnT": lnT,
        "lnA": lnA,
        "sT": _sigma(-2.5 + 1.25 * ln_y),
        "sA": _sigma(-0.82 + 0.79 * ln_y),
        "rho": np.clip(0.784 - 0.023 * ln_y, -0.99, 0.99),
    }


def sample_em_showers(
    e_gev: np.ndarray,
    medium: SamplingMedium,
    rng: np.random.Generator,
    photon: np.ndarray | bool = False,
    t_start: np.ndarray | float = 0.0,
    radial_jitter: float = 0.0,
) -> EMShowers:
    """Draw the fluctuated GFlash profile of each shower.

    Args:
        e_gev: shower energies in GeV, shape (n,).
        medium: effective medium (Z_eff, E_c, F_s, e/mip).
        rng: random generator.
        photon: photons (scalar or per shower) start after an Exp(9/7 X0) conversion depth.
        t_start: depth (X0) where the particle enters or is created.
        radial_jitter: log-normal width of per-shower R_C and R_T scale factors.
    """
    e = np.asarray(e_gev, dtype=np.float64)
    n = e.shape[0]
    m = gflash_means(e, medium)
    z1, z2 = rng.standard_normal((2, n))
    cp, cm = np.sqrt((1.0 + m["rho"]) / 2.0), np.sqrt((1.0 - m["rho"]) / 2.0)
    T = np.maximum(np.exp(m["lnT"] + m["sT"] * (cp * z1 + cm * z2)), 1.0)
    alpha = np.maximum(np.exp(m["lnA"] + m["sA"] * (cp * z1 - cm * z2)), 1.1)
    t0 = np.broadcast_to(np.asarray(t_start, dtype=np.float64), (n,)).copy()
    is_photon = np.broadcast_to(np.asarray(photon, dtype=bool), (n,))
    if is_photon.any():
        t0 += np.where(is_photon, rng.exponential(CONVERSION_DEPTH_X0, n), 0.0)
    if radial_jitter > 0:
        rc_s, rt_s = np.exp(radial_jitter * rng.standard_normal((2, n)))
    else:
        rc_s = rt_s = np.ones(n)
    return EMShowers(e, t0, T, alpha, np.maximum(np.exp(m["lnA"]), 1.1), rc_s, rt_s)


def longitudinal_fractions(showers: EMShowers, edges_x0: np.ndarray) -> np.ndarray:
    """Fraction of each shower's energy between consecutive depth edges: shape (n, len(edges) - 1)."""
    dt = np.maximum(edges_x0[None, :] - showers.t0[:, None], 0.0)  # (n, S+1)
    cdf = gammainc(showers.alpha[:, None], showers.beta[:, None] * dt)
    return np.diff(cdf, axis=1)


def radial_parameters(
    tau: np.ndarray, ln_e: np.ndarray, medium: SamplingMedium
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GFlash R_C, R_T (units of R_M) and core probability p at scaled depth ``tau`` (broadcasting).

    Homogeneous parameters plus the sampling corrections of physics.md section 2.
    """
    z, fs, one_m_e = medium.z_eff, medium.fs, 1.0 - medium.ehat
    rc = (0.0251 + 0.00319 * ln_e) + (0.1162 - 0.000381 * z) * tau
    k1, k2, k3, k4 = 0.659 - 0.00309 * z, 0.645, -2.59, 0.3585 + 0.0421 * ln_e
    rt = k1 * (np.exp(k3 * (tau - k2)) + np.exp(k4 * (tau - k2)))
    p1, p2, p3 = 2.632 - 0.00094 * z, 0.401 + 0.00187 * z, 1.313 - 0.0686 * ln_e
    x = (p2 - tau) / p3
    p = p1 * np.exp(x - np.exp(x))
    e_tau = np.exp(-tau)
    rc = rc - 0.0203 * one_m_e + 0.0397 * e_tau / fs
    rt = rt - 0.14 * one_m_e - 0.495 * e_tau / fs
    p = p + one_m_e * (0.348 - 0.642 * np.exp(-((tau - 1.0) ** 2)) / fs)
    rc = np.maximum(rc, 0.01)
    rt = np.maximum(rt, rc)
    return rc, rt, np.clip(p, 0.0, 1.0)


def _ring_fractions(r_edges_rm: np.ndarray, rc: np.ndarray, rt: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Share of the two-component profile in each ring: r_edges (E,) broadcast against (..., 1) params."""
    r2 = r_edges_rm**2
    cdf = p[..., None] * r2 / (r2 + rc[..., None] ** 2) + (1.0 - p[..., None]) * r2 / (r2 + rt[..., None] ** 2)
    return np.diff(cdf, axis=-1)


def greisen_particles(t: np.ndarray, ln_y: np.ndarray) -> np.ndarray:
    """Mean number of charged shower particles at depth t (X0) after the start (Greisen; Rossi approx. B).

    N(t) = 0.31 / sqrt(y) exp(t (1 - 1.5 ln s)) with the shower age s = 3 t / (t + 2 ln y), y = E / E_c.
    Early in the shower (s << 1) N grows like exp(t) (2 ln y / 3 t)^(1.5 t): at fixed depth it rises as a
    power of ln E, set by the multiplication of the first bremsstrahlung and pair generations.
    """
    t = np.maximum(t, 1e-6)
    s = 3.0 * t / (t + 2.0 * ln_y)
    return 0.31 / np.sqrt(ln_y) * np.exp(t * (1.0 - 1.5 * np.log(s)))


def early_fractions(showers: EMShowers, edges_x0: np.ndarray, ec_mev: float) -> np.ndarray:
    """Greisen ionisation profile per depth step as a fraction of the energy: shape (n, len(edges) - 1).

    Every charged particle loses about E_c per X0 by ionisation (Rossi's definition of the critical
    energy), so dE/dt = E_c N(t); integrated over the whole shower this is E (track length E / E_c X0).
    Integrated with 4-point Gauss-Legendre per step.
    """
    ln_y = np.log(np.maximum(1e3 * showers.e_gev / ec_mev, np.e))[:, None, None]
    lo = np.maximum(edges_x0[None, :-1] - showers.t0[:, None], 0.0)
    hi = np.maximum(edges_x0[None, 1:] - showers.t0[:, None], 0.0)
    x, w = np.polynomial.legendre.leggauss(4)
    half = 0.5 * (hi - lo)
    pts = (0.5 * (hi + lo))[..., None] + half[..., None] * x
    dep = (greisen_particles(pts, ln_y) * w).sum(axis=-1) * half  # particle X0 per step
    return dep * (ec_mev / (1e3 * showers.e_gev))[:, None]


def albedo_kernel(edges_x0: np.ndarray, x0: float) -> np.ndarray:
    """K[i, j]: share of energy scattered back from step j (its centre) that lands in step i <= j.

    Backscattered soft photons are absorbed upstream with an exponential of mean free path ``x0``; the
    part that reaches the front face escapes (energy albedo).
    """
    lo, hi = edges_x0[:-1], edges_x0[1:]
    c = 0.5 * (lo + hi)
    d_near = np.maximum(c[None, :] - hi[:, None], 0.0)
    d_far = np.maximum(c[None, :] - lo[:, None], 0.0)
    k = np.exp(-d_near / x0) - np.exp(-d_far / x0)
    return np.where(np.arange(c.size)[:, None] <= np.arange(c.size)[None, :], k, 0.0)


def step_energies(
    stack: Stack,
    showers: EMShowers,
    energy: np.ndarray,
    tail_weight: float = 0.0,
    tail_x0: float = 3.5,
    early_regime: bool = False,
    albedo_weight: float = 0.0,
    albedo_x0: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Energy per substep of the stack: the GFlash Gamma profile with an early regime, albedo and tail.

    - Early regime: before the Gamma profile's rising edge (beta t)^(alpha - 1) overtakes the ionisation
      of Greisen's particle count E_c N(t) (:func:`early_fractions`), the deposit *is* that ionisation:
      the first X0 of a shower are the primary and its first bremsstrahlung/pair generations, whose
      number grows with ln E and fluctuates like counting, not like the fitted Gamma shape (whose steep
      edge turns a 10% change of alpha into a factor-of-several change of the first layers). The Gamma
      part after the crossover is rescaled to keep the energy (and the Gamma's leakage behind the stack).
    - Albedo: ``albedo_weight`` of each step's energy is carried backwards by Compton-scattered soft
      photons (~0.3-1 MeV) and absorbed upstream with mean free path ``albedo_x0`` (the part reaching the
      front face escapes), tying the first layers to the development of the shower behind them.
    - Tail: a Gamma(2) profile of scale ``tail_x0`` starting at the shower maximum ``t0 + T``, holding
      ``tail_weight`` of the energy: photons near the minimum of the attenuation coefficient (about
      3.5 X0 in W/Pb) carry energy deeper than the Gamma fit (PDG: t95 = t_max + 0.08 Z + 9.6 X0).

    Returns:
        (main, soft), each (n, S) in the unit of ``energy``: the charged-particle part (Gamma profile and
        early regime) and the soft-photon part (albedo and tail), which is read out in fewer, larger spots.
    """
    steps = stack.substeps
    edges = np.concatenate([steps.t_lo, steps.t_hi[-1:]])
    frac = longitudinal_fractions(showers, edges)
    if early_regime:
        early = early_fractions(showers, edges, stack.medium.ec_mev)
        t_mid = 0.5 * (edges[:-1] + edges[1:])[None, :] - showers.t0[:, None]
        before = (t_mid < showers.T[:, None]) & (np.cumsum(frac >= early, axis=1) == 0)
        e_sum = np.where(before, early, 0.0).sum(axis=1)
        g_sum = np.where(before, frac, 0.0).sum(axis=1)
        scale = np.clip(1.0 - e_sum, 0.0, 1.0) / np.maximum(1.0 - g_sum, 1e-12)
        frac = np.where(before, early, frac * scale[:, None])
    main = frac * (energy * (1.0 - tail_weight))[:, None]
    soft = np.zeros_like(main)
    if albedo_weight > 0:
        soft += albedo_weight * (main @ albedo_kernel(edges, albedo_x0).T)
        main *= 1.0 - albedo_weight
    if tail_weight > 0:
        dt = np.maximum(edges[None, :] - (showers.t0 + showers.T)[:, None], 0.0)
        soft += np.diff(gammainc(2.0, dt / tail_x0), axis=1) * (energy * tail_weight)[:, None]
    return main, soft


def em_layer_means(stack: Stack, showers: EMShowers, step_energy: list[np.ndarray]) -> list[list[np.ndarray]]:
    """Mean deposited energy per binned layer and radial ring (before sampling fluctuations).

    Args:
        stack: detector stack (its substeps, regions, readout layers and GFlash medium).
        showers: per-shower profiles from :func:`sample_em_showers`.
        step_energy: energy per substep (n, S) of each longitudinal component (see :func:`step_energies`),
            all spread laterally with the shower's GFlash radial profile.

    Returns:
        For each component, one array (n, n_r) per binned layer of the geometry, in voxel order.
    """
    steps = stack.substeps
    n = showers.e_gev.shape[0]
    ln_e = np.log(np.maximum(showers.e_gev, 1e-3))[:, None]
    scale = (showers.alpha - 1.0) / showers.alpha / showers.T * showers.alpha_bar / (showers.alpha_bar - 1.0)
    out: list[list[np.ndarray]] = [[] for _ in step_energy]
    for pos, layer in enumerate(stack.geometry.binned_layers):
        sel = np.flatnonzero(steps.layer == pos)
        if sel.size == 0:
            for comp in out:
                comp.append(np.zeros((n, layer.n_r)))
            continue
        lo = np.maximum(steps.t_lo[sel][None, :], showers.t0[:, None])
        hi = steps.t_hi[sel][None, :]
        tc = np.maximum(0.5 * (lo + hi) - showers.t0[:, None], 0.0)
        tau = np.minimum(tc * scale[:, None], TAU_MAX)  # (n, s)
        rc, rt, p = radial_parameters(tau, ln_e, stack.medium)
        rc = rc * showers.rc_scale[:, None]
        rt = rt * showers.rt_scale[:, None]
        rm = np.array([stack.regions[i].rm_mm for i in steps.region[sel]])  # (s,)
        r_edges = np.asarray(layer.r_edges)[None, :] / rm[:, None]  # (s, E)
        frac = _ring_fractions(r_edges[None, :, :], rc, rt, p)  # (n, s, n_r)
        for comp, w in zip(out, step_energy, strict=True):
            comp.append(np.einsum("ns,nsr->nr", w[:, sel], frac))
    return out


def add_em_showers(
    stack: Stack,
    showers: EMShowers,
    energy: np.ndarray,
    config: SimConfig,
    rng: np.random.Generator,
    out: np.ndarray,
    group: int = 1,
) -> None:
    """Spot-sample EM showers (core + tail components) into ``out`` (n, n_voxels), MeV.

    ``group`` > 1 sums consecutive groups of that many showers (the pi0 sub-showers of one pion).
    """
    main, tail = step_energies(
        stack,
        showers,
        energy,
        config.tail_weight,
        config.tail_x0,
        config.early_regime,
        config.albedo_weight,
        config.albedo_x0,
    )
    core_means, tail_means = em_layer_means(stack, showers, [main, tail])
    if group > 1:
        core_means = [m.reshape(-1, group, m.shape[1]).sum(axis=1) for m in core_means]
        tail_means = [m.reshape(-1, group, m.shape[1]).sum(axis=1) for m in tail_means]
    soft_weight = config.tail_weight + config.albedo_weight
    eps, _ = voxel_spot_means(stack, config.spot_shape, soft_weight, config.tail_spot_factor)
    geo = stack.geometry
    compound_poisson(layer_means_to_voxels(geo, core_means), eps, config.spot_shape, rng, out)
    if soft_weight > 0:
        tail_eps = eps * config.tail_spot_factor
        compound_poisson(layer_means_to_voxels(geo, tail_means), tail_eps, config.spot_shape, rng, out)
