"""Readout: spot-sampled voxel energies, MIP tracks, constant term and the threshold after summing.

Sampling fluctuations follow GFlash's spot picture (physics.md section 3): a shower deposits its visible
energy in spots whose number is Poisson and whose energies eps are broad (a Gamma distribution of shape k,
physics.md suggestion 3 a). With <eps^2>/<eps> = c^2 GeV the summed energy has Var = c^2 E GeV, i.e.
sigma_E / E = c / sqrt(E) (the stochastic term), whatever k is:

    <eps> = c^2 GeV / (1 + 1/k).

Spots are independent and identically distributed over the mean (layer, ring, alpha) profile, so by the
thinning property of the Poisson process the spot count in voxel v is Poisson with mean mu_v = E_v / <eps>,
independently across voxels, and the sum of n Gamma(k) spots is Gamma(n k). Drawing per voxel is therefore
*exactly* the spot-by-spot GFlash procedure (with aggregated spots), at a cost set by the voxel count
rather than by the 10^5 spots of a 1 TeV shower. Alpha bins share each ring's mean equally (the profile is
azimuthally symmetric; the fluctuations are not).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from calovq.geometry import Geometry

if TYPE_CHECKING:
    from calovq.simulate.detectors import Stack

__all__ = [
    "HAD_CLUMP_MIPS",
    "compound_poisson",
    "layer_means_to_voxels",
    "moyal",
    "spot_mean_mev",
    "track_voxels",
    "voxel_spot_means",
]

#: Largest mean hadronic clump signal in a slab, in units of its MIP signal: a slow proton (beta ~ 0.5)
#: crossing the 11 mm LAr presampler loses 3-4 times a MIP; one ranging out in it (range ~1.5 g/cm^2,
#: E_k ~35 MeV) about ten times, which the broad Gamma(k = 0.5) clump spectrum reaches.
HAD_CLUMP_MIPS = 3.0


def spot_mean_mev(c: float | np.ndarray, k: float) -> float | np.ndarray:
    """Mean spot energy (MeV) giving a stochastic term ``c`` (sqrt(GeV)) with Gamma(``k``) spot energies."""
    return np.asarray(c) ** 2 * 1e3 / (1.0 + 1.0 / k)


def layer_means_to_voxels(geometry: Geometry, layer_means: list[np.ndarray]) -> np.ndarray:
    """Spread per-layer ring means (n, n_r) evenly over alpha: flat voxel means (n, n_voxels)."""
    n = layer_means[0].shape[0]
    out = np.empty((n, geometry.n_voxels))
    for pos, (layer, m) in enumerate(zip(geometry.binned_layers, layer_means, strict=True)):
        ring = (m / layer.n_alpha)[:, None, :]
        out[:, geometry.layer_slice(pos)] = np.broadcast_to(ring, (n, layer.n_alpha, layer.n_r)).reshape(n, -1)
    return out


def compound_poisson(
    mean: np.ndarray, eps_mev: np.ndarray, k: float, rng: np.random.Generator, out: np.ndarray | None = None
) -> np.ndarray:
    """Energies of Poisson(mean / eps) spots with Gamma(k, eps / k) energies, summed per voxel.

    Args:
        mean: mean energy per voxel (MeV), shape (n, V).
        eps_mev: mean spot energy per voxel (V,) or scalar.
        k: Gamma shape of the spot energies.
        rng: random generator.
        out: optional float array (n, V) the energies are added to.

    Returns:
        ``out`` (or a new array) with the sampled energies added.
    """
    eps = np.broadcast_to(np.asarray(eps_mev, dtype=np.float64), mean.shape[-1:])
    if out is None:
        out = np.zeros(mean.shape, dtype=np.float64)
    mu = mean / eps
    mu = np.maximum(mu, 0.0, out=mu)
    counts = rng.poisson(mu)
    nz = np.nonzero(counts)
    if nz[0].size:
        out[nz] += rng.gamma(k * counts[nz], (eps / k)[nz[1]])
    return out


def moyal(rng: np.random.Generator, size: int | tuple[int, ...], cap: float = 30.0) -> np.ndarray:
    """Moyal (Landau-like) variates with location 0 and scale 1: X = -ln(z^2), z ~ N(0, 1), capped.

    exp(-X) is chi^2 with one degree of freedom, which gives the Moyal density
    exp(-(x + e^-x)/2) / sqrt(2 pi): most probable value 0, mean gamma_E + ln 2 = 1.27.
    """
    z = rng.standard_normal(size)
    return np.minimum(-np.log(np.maximum(z * z, 1e-300)), cap)


def track_voxels(
    geometry: Geometry,
    layer_pos: np.ndarray,
    rng: np.random.Generator,
    sigma_r_mm: float,
) -> np.ndarray:
    """Flat voxel index of a track crossing binned layer ``layer_pos`` near the axis.

    The crossing point is Gaussian around the axis (2-d width ``sigma_r_mm``: multiple scattering and
    the hit position spread) with a uniform angle; it is binned with the layer's r edges and alpha bins.
    Points beyond the outermost radius are returned as -1.
    """
    n = layer_pos.shape[0]
    r = np.asarray(sigma_r_mm * np.sqrt(-2.0 * np.log1p(-rng.random(n))))
    phi = np.asarray(rng.uniform(-np.pi, np.pi, n))
    idx = np.full(n, -1, dtype=np.int64)
    for pos, layer in enumerate(geometry.binned_layers):
        sel = np.flatnonzero(layer_pos == pos)
        if sel.size == 0:
            continue
        ir = np.searchsorted(np.asarray(layer.r_edges), r[sel], side="right") - 1
        ia = np.minimum(((phi[sel] + np.pi) / (2 * np.pi) * layer.n_alpha).astype(np.int64), layer.n_alpha - 1)
        ok = ir < layer.n_r
        idx[sel[ok]] = geometry.layer_offsets[pos] + ia[ok] * layer.n_r + ir[ok]
    return idx


def voxel_spot_means(
    stack: Stack, k: float, tail_weight: float = 0.0, tail_factor: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Mean spot energy (MeV) per voxel for the EM core and for non-EM deposits, from each layer's slab.

    With a tail component of weight w whose spots are ``tail_factor`` f times larger, the core spots are
    scaled by 1 / (1 + (f - 1) w) so that the total stochastic term stays c (tail spots: f times that).

    Non-EM (hadronic) clumps are heavily ionising particles (slow protons, nuclear fragments) crossing or
    stopping in the slab, so their mean signal is at most :data:`HAD_CLUMP_MIPS` times the slab's MIP signal:
    in the 11 mm LAr presampler (MIP signal ~3 MeV) a slow proton gives ~10 MeV and one that ranges out
    about 35 MeV, not the ~80 MeV mean clumps of a 0.5 sqrt(GeV) sampling term meant for thick periods.
    """
    em, had = [], []
    core = 1.0 / (1.0 + (tail_factor - 1.0) * tail_weight)
    for pos, layer in enumerate(stack.geometry.binned_layers):
        region = stack.regions[stack.layer_regions(pos)[0]]
        em.append(np.full(layer.n_voxels, core * spot_mean_mev(region.em_c, k)))
        had_eps = spot_mean_mev(region.had_c, k)
        if region.mip_gev > 0:
            had_eps = min(had_eps, HAD_CLUMP_MIPS * region.mip_gev * 1e3)
        had.append(np.full(layer.n_voxels, had_eps))
    return np.concatenate(em), np.concatenate(had)
