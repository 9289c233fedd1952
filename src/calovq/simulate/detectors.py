"""Longitudinal detector stacks behind each geometry: Par04 W/Si (datasets 2, 3, tiny) and ATLAS (dataset 1).

A stack is an ordered list of :class:`Region` s along the shower axis, each with its thickness in radiation
lengths and in nuclear interaction lengths, its Moliere radius and interaction length in mm (for lateral
spreads) and the binned readout layer it feeds (or none: dead material). The EM profile lives in cumulative
X0 depth and the hadronic profile in cumulative lambda_I depth; :class:`Stack` maps between the two.

ATLAS depths are the approximate ones of physics.md section 6 at eta ~ 0, scaled by cosh(0.225) = 1.025
for the 0.20 < |eta| < 0.25 slice: dead material before the presampler 1.6 X0 (about 0.35 lambda),
presampler 11 mm LAr, 0.3 X0 of services before the strips, EMB1/2/3 = 4.3/16/2 X0 of accordion (about
1.15 lambda together), 0.4 lambda of cryostat, TileBar0/1/2 = 1.5/4.1/1.8 lambda.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from calovq.exceptions import GeometryError
from calovq.geometry import Geometry
from calovq.simulate.config import SimConfig
from calovq.simulate.materials import ATLAS_ACCORDION, ATLAS_TILE, PAR04, SamplingMedium

__all__ = ["PAR04_DEPTH_MM", "Region", "Stack", "Substeps", "build_stack"]

#: Total depth of the Par04 detector: 45 readout layers of 2 x (1.4 mm W + 0.3 mm Si).
PAR04_DEPTH_MM = 153.0
#: Par04 conversion of Si energy to the stored CaloChallenge scale (physics.md section 6).
PAR04_SI_SCALE = 1.0 / 0.033
#: cosh(eta) at the centre of the dataset-1 slice 0.20 < |eta| < 0.25.
COSH_ETA = math.cosh(0.225)


@dataclass(frozen=True)
class Region:
    """One slab of the stack.

    Attributes:
        name: label (``"EMB2"``, ``"Par04 layer 7"``, ...).
        t_x0: thickness in radiation lengths.
        t_lambda: thickness in nuclear interaction lengths.
        rm_mm: Moliere radius for the lateral EM spread (mm).
        lambda_mm: interaction length for the lateral hadronic spread (mm).
        layer: position of the binned readout layer this slab feeds, or -1 for dead material.
        em_c: stochastic term (sqrt(GeV)) of EM deposits read out here.
        had_c: stochastic term of hadronic deposits.
        h_over_e: response to the non-EM hadronic energy relative to the EM scale.
        mip_gev: EM-scale signal of a minimum-ionising particle crossing the whole slab (GeV).
        mip_true_gev: true ionisation energy lost by that particle (GeV).
        mip_width: relative Landau (Moyal) width of that signal.
        max_step_x0: largest profile-integration step in this slab (X0).
    """

    name: str
    t_x0: float
    t_lambda: float
    rm_mm: float
    lambda_mm: float
    layer: int = -1
    em_c: float = 0.1
    had_c: float = 0.5
    h_over_e: float = 1.0
    mip_gev: float = 0.0
    mip_true_gev: float = 0.0
    mip_width: float = 0.1
    max_step_x0: float = 0.5


@dataclass(frozen=True)
class Substeps:
    """The stack cut into thin steps for the profile integration (all arrays of shape (S,))."""

    t_lo: np.ndarray
    t_hi: np.ndarray
    l_lo: np.ndarray
    l_hi: np.ndarray
    region: np.ndarray
    layer: np.ndarray


@dataclass(frozen=True)
class Stack:
    """A detector stack and the GFlash medium used for its EM showers.

    Attributes:
        name: label.
        regions: slabs in order along the shower axis.
        medium: effective sampling medium whose GFlash parameters drive the EM profiles.
        geometry: the readout geometry (binned layers in voxel order).
        threshold_mev: voxel threshold after summing (0 for none).
        track_si_layers: Si layers per readout layer for the primary e+- track (0: no track model).
        track_mip_mev: most probable stored signal of one Si layer crossed by a MIP (MeV).
    """

    name: str
    regions: tuple[Region, ...]
    medium: SamplingMedium
    geometry: Geometry
    threshold_mev: float = 0.0
    track_si_layers: int = 0
    track_mip_mev: float = 0.0

    @cached_property
    def x0_edges(self) -> np.ndarray:
        """Cumulative X0 depth at the region boundaries, shape (R + 1,)."""
        return np.concatenate([[0.0], np.cumsum([r.t_x0 for r in self.regions])])

    @cached_property
    def lambda_edges(self) -> np.ndarray:
        """Cumulative lambda_I depth at the region boundaries, shape (R + 1,)."""
        return np.concatenate([[0.0], np.cumsum([r.t_lambda for r in self.regions])])

    def x0_to_lambda(self, t: np.ndarray) -> np.ndarray:
        """Depth in lambda_I for a depth in X0 (piecewise linear, extrapolated past the end)."""
        t = np.asarray(t, dtype=np.float64)
        out = np.interp(t, self.x0_edges, self.lambda_edges)
        last = self.regions[-1]
        beyond = t > self.x0_edges[-1]
        out[beyond] += (t[beyond] - self.x0_edges[-1]) * last.t_lambda / last.t_x0
        return out

    def lambda_to_x0(self, lam: np.ndarray) -> np.ndarray:
        """Depth in X0 for a depth in lambda_I (inverse of :meth:`x0_to_lambda`)."""
        lam = np.asarray(lam, dtype=np.float64)
        out = np.interp(lam, self.lambda_edges, self.x0_edges)
        last = self.regions[-1]
        beyond = lam > self.lambda_edges[-1]
        out[beyond] += (lam[beyond] - self.lambda_edges[-1]) * last.t_x0 / last.t_lambda
        return out

    @cached_property
    def substeps(self) -> Substeps:
        """Regions cut into steps of at most ``max_step_x0`` (0.5 X0; Tile 1 X0) and 0.1 lambda_I (readout only)."""
        t_lo, t_hi, l_lo, l_hi, reg, lay = [], [], [], [], [], []
        for i, r in enumerate(self.regions):
            n_x0 = math.ceil(r.t_x0 / r.max_step_x0 - 1e-09)
            n = 1 if r.layer < 0 else max(1, n_x0, math.ceil(r.t_lambda / 0.1 - 1e-09))
            tx = np.linspace(self.x0_edges[i], self.x0_edges[i + 1], n + 1)
            tl = np.linspace(self.lambda_edges[i], self.lambda_edges[i + 1], n + 1)
            t_lo.append(tx[:-1])
            t_hi.append(tx[1:])
            l_lo.append(tl[:-1])
            l_hi.append(tl[1:])
            reg.append(np.full(n, i))
            lay.append(np.full(n, r.layer))
        return Substeps(
            np.concatenate(t_lo),
            np.concatenate(t_hi),
            np.concatenate(l_lo),
            np.concatenate(l_hi),
            np.concatenate(reg),
            np.concatenate(lay),
        )

    def layer_regions(self, layer: int) -> list[int]:
        """Indices of the regions read out by binned layer position ``layer``."""
        return [i for i, r in enumerate(self.regions) if r.layer == layer]


def _par04(geometry: Geometry, config: SimConfig) -> Stack:
    """Par04: the whole depth is one W/Si medium, cut into the geometry's readout layers."""
    n = geometry.n_layers
    thick = PAR04_DEPTH_MM / n
    regions = tuple(
        Region(
            name=f"Par04 layer {k}",
            t_x0=thick / PAR04.x0_mm,
            t_lambda=thick / PAR04.lambda_mm,
            rm_mm=PAR04.rm_mm,
            lambda_mm=PAR04.lambda_mm,
            layer=k,
            em_c=config.stochastic_term,
        )
        for k in range(n)
    )
    threshold = geometry.threshold_mev if config.threshold_mev is None else config.threshold_mev
    si_layers = max(1, round(thick / 1.7))
    # 0.3 mm Si: most probable MIP loss about 84 keV (physics.md section 3 b), stored as Si energy / 0.033
    return Stack("Par04 W/Si", regions, PAR04, geometry, threshold, si_layers, 0.084 * PAR04_SI_SCALE)


# (name, X0 at eta = 0, lambda at eta = 0, R_M mm, lambda mm, CaloSampling id or None, kind)
_ATLAS_LAYOUT: tuple[tuple[str, float, float, float, float, int | None, str], ...] = (
    ("inner detector + solenoid + cryostat", 1.6, 0.35, 44.0, 397.0, None, "dead"),
    ("PreSamplerB", 11.0 / 140.0, 11.0 / 858.0, 40.0, 858.0, 0, "lar"),
    ("services before EMB1", 0.3, 0.03, 40.0, 397.0, None, "dead"),
    ("EMB1", 4.3, 4.3 * ATLAS_ACCORDION.x0_mm / ATLAS_ACCORDION.lambda_mm, 0.0, 0.0, 1, "lar"),
    ("EMB2", 16.0, 16.0 * ATLAS_ACCORDION.x0_mm / ATLAS_ACCORDION.lambda_mm, 0.0, 0.0, 2, "lar"),
    ("EMB3", 2.0, 2.0 * ATLAS_ACCORDION.x0_mm / ATLAS_ACCORDION.lambda_mm, 0.0, 0.0, 3, "lar"),
    ("LAr cryostat + Tile front plate", 1.8, 0.4, 44.0, 397.0, None, "dead"),
    ("TileBar0", 1.5 * ATLAS_TILE.lambda_mm / ATLAS_TILE.x0_mm, 1.5, 0.0, 0.0, 12, "tile"),
    ("TileBar1", 4.1 * ATLAS_TILE.lambda_mm / ATLAS_TILE.x0_mm, 4.1, 0.0, 0.0, 13, "tile"),
    ("TileBar2", 1.8 * ATLAS_TILE.lambda_mm / ATLAS_TILE.x0_mm, 1.8, 0.0, 0.0, 14, "tile"),
)

#: EM-scale signal (GeV) of a MIP crossing each readout slab at eta ~ 0.2 (physics.md section 5.2).
_ATLAS_MIP_GEV = {0: 0.003, 1: 0.06, 2: 0.23, 3: 0.03, 12: 0.33, 13: 0.9, 14: 0.4}
#: Profile-integration step in the Tile (X0): 0.1 lambda_I = 0.9 X0. Depth integrals are exact per step
#: (incomplete Gamma differences); only the lateral profile is evaluated at the step centre, and an EM
#: shower reaching the Tile is past its first X0, so the 0.5 X0 of the accordion is not needed there.
TILE_STEP_X0 = 1.0
#: True ionisation loss per lambda_I in dead material (GeV), about 1.5 MeV cm^2/g x 120 g/cm^2.
_DEAD_LOSS_GEV_PER_LAMBDA = 0.19


def _atlas(geometry: Geometry, config: SimConfig) -> Stack:
    """The ATLAS barrel slice of dataset 1 (layer ids follow CaloSampling)."""
    ids = geometry.layer_ids
    pos = {lid: k for k, lid in enumerate(ids)}
    regions = []
    for name, x0, lam, rm, lam_mm, lid, kind in _ATLAS_LAYOUT:
        medium = ATLAS_TILE if kind == "tile" else ATLAS_ACCORDION
        rm = rm or medium.rm_mm
        lam_mm = lam_mm or medium.lambda_mm
        t_x0, t_lam = x0 * COSH_ETA, lam * COSH_ETA
        if kind == "dead":
            regions.append(Region(name, t_x0, t_lam, rm, lam_mm, mip_true_gev=_DEAD_LOSS_GEV_PER_LAMBDA * t_lam))
            continue
        mip = _ATLAS_MIP_GEV[lid] * (COSH_ETA if lid != 0 else 1.0) if lid is not None else 0.0
        em_c = config.tile_em_stochastic_term if kind == "tile" else config.atlas_em_stochastic_term
        e_over_h = config.e_over_h_tile if kind == "tile" else config.e_over_h_lar
        regions.append(
            Region(
                name,
                t_x0,
                t_lam,
                rm,
                lam_mm,
                layer=pos.get(lid, -1) if lid is not None else -1,
                em_c=em_c,
                had_c=config.hadronic_stochastic_term,
                h_over_e=1.0 / e_over_h,
                mip_gev=mip,
                mip_true_gev=mip * medium.ehat,
                mip_width=0.15 if kind == "lar" else 0.08,
                max_step_x0=TILE_STEP_X0 if kind == "tile" else 0.5,
            )
        )
    threshold = 0.0 if config.threshold_mev is None else config.threshold_mev
    return Stack("ATLAS barrel eta=0.225", tuple(regions), ATLAS_ACCORDION, geometry, threshold)


def build_stack(geometry: Geometry, config: SimConfig) -> Stack:
    """The detector stack for ``geometry``.

    Regular electron geometries (datasets 2, 3, ``tiny`` or any regular binning XML with pid 11) are read
    out of the Par04 W/Si cylinder (153 mm deep, equal readout layers). Geometries whose binned layer ids
    are ATLAS CaloSampling ids (0-3, 12-14) are read out of the ATLAS barrel stack.

    Raises:
        GeometryError: a geometry that fits neither detector.
    """
    ids = set(geometry.layer_ids)
    if geometry.particle in ("photon", "pion") and ids <= {0, 1, 2, 3, 12, 13, 14}:
        return _atlas(geometry, config)
    if geometry.is_regular and geometry.particle == "electron":
        return _par04(geometry, config)
    msg = (
        f"the simulator knows the Par04 W/Si detector (regular electron geometries: 2, 3, tiny) and the "
        f"ATLAS barrel (dataset 1 layer ids 0-3, 12-14); geometry {geometry.name!r} fits neither"
    )
    raise GeometryError(msg)
