"""Settings of the embedded shower simulator: one frozen dataclass, saved as HDF5 attributes.

The defaults follow ``shared/docs/physics.md``: a stochastic (sampling) term of 0.13 sqrt(GeV) for the
Par04 W/Si stack (between the 7.8% sampling-term lower bound and the ~11-13% CALICE-scaled estimate,
section 7.4), a 0.7% constant term (section 3 d), broad Gamma-distributed spot energies (section 3 a) and
the 15.15 keV readout threshold of datasets 2/3 (0.5 keV / 0.033, section 3 c).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from typing import Any

from calovq.exceptions import ConfigError

__all__ = ["ATTR_PREFIX", "SimConfig"]

#: Prefix of the HDF5 file attributes that hold the :class:`SimConfig` fields.
ATTR_PREFIX = "sim_"


@dataclass(frozen=True)
class SimConfig:
    """Physics and readout settings of :func:`calovq.simulate.simulate`.

    Attributes:
        stochastic_term: sampling term c of the Par04 W/Si stack in sqrt(GeV): sigma_E / E = c / sqrt(E).
            Realised by compound-Poisson spots with <eps^2>/<eps> = c^2 GeV (physics.md section 3).
        atlas_em_stochastic_term: the same for the ATLAS LAr accordion and presampler (dataset 1),
            about 10%/sqrt(E) by design (physics.md section 7.4).
        tile_em_stochastic_term: EM sampling term inside the ATLAS Tile calorimeter (Fe/scintillator).
        hadronic_stochastic_term: sampling term applied to the non-EM part of pion showers (clumpy deposits).
        constant_term: relative width of an event-wide Gaussian scale factor (calibration non-uniformity).
        spot_shape: Gamma shape k of the spot-energy distribution (k = 1: exponential; < 1 broader).
        tail_weight: share of an EM shower's energy in the late tail component (Gamma(2) of scale
            ``tail_x0`` from the shower maximum), which the GFlash Gamma profile lacks.
        tail_x0: scale of that tail in X0 (photons near the attenuation minimum, about 3.5 X0).
        tail_spot_factor: tail spots are this many times more energetic (few, clumpy deposits), keeping
            the total stochastic term.
        early_regime: describe the first radiation lengths of an EM shower by the ionisation of
            Greisen's particle count, E_c N(t), until the GFlash Gamma profile overtakes it.
        albedo_weight: share of the energy deposited at each depth that Compton-scattered soft photons
            carry backwards and deposit upstream (energy albedo) [uncertain, a few percent].
        albedo_x0: mean free path (X0) of those photons, about 1 X0 for 0.5 MeV photons in W.
        radial_jitter: per-shower log-normal width of the GFlash core/tail radii (shower-width fluctuations).
        threshold_mev: voxel readout threshold applied after summing each voxel. ``None`` uses the
            geometry's convention: 15.15 keV for the Par04 detectors, no threshold for dataset 1 (the
            official evaluation applies its 1 MeV cut itself).
        particle: incident particle; ``None`` uses the geometry's (electron for ds2/ds3/tiny, photon or pion
            for dataset 1). ``"electron"`` on a dataset-1 photon geometry gives electrons in the same
            detector (used for the photon-versus-electron depth check).
        primary_track: deposit the ionisation of the primary e+- (Landau/Moyal-distributed MIP signals on
            the axis) in the first radiation lengths of the Par04 stack, plus the e+e- pairs of its first
            converted bremsstrahlung photons in the first X0.
        pion_em_subshowers: number of pi0 sub-showers the EM part of a pion shower is split into, one per
            generation of the hadronic cascade (8: enough generations to carry the EM part into the Tile).
        e_over_h_lar: e/h of the ATLAS LAr calorimeter (hep-ex/9911033: 1.74).
        e_over_h_tile: e/h of the ATLAS Tile calorimeter (about 1.3).
        pion_fem_sigma: event-by-event width of the pion EM fraction (Beta distribution).
        pion_lambda_factor: pion interaction length in units of the nuclear interaction length lambda_I.
    """

    stochastic_term: float = 0.13
    atlas_em_stochastic_term: float = 0.10
    tile_em_stochastic_term: float = 0.28
    hadronic_stochastic_term: float = 0.5
    constant_term: float = 0.007
    spot_shape: float = 0.5
    tail_weight: float = 0.08
    tail_x0: float = 3.6
    tail_spot_factor: float = 10.0
    early_regime: bool = True
    albedo_weight: float = 0.07
    albedo_x0: float = 2.0
    radial_jitter: float = 0.08
    threshold_mev: float | None = None
    particle: str | None = None
    primary_track: bool = True
    pion_em_subshowers: int = 8
    e_over_h_lar: float = 1.74
    e_over_h_tile: float = 1.3
    pion_fem_sigma: float = 0.12
    pion_lambda_factor: float = 1.2

    def __post_init__(self) -> None:
        positive = (
            "stochastic_term",
            "atlas_em_stochastic_term",
            "tile_em_stochastic_term",
            "hadronic_stochastic_term",
            "spot_shape",
            "tail_x0",
            "tail_spot_factor",
            "albedo_x0",
            "e_over_h_lar",
            "e_over_h_tile",
            "pion_lambda_factor",
        )
        for name in positive:
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                msg = f"SimConfig.{name} must be a positive number, got {value!r}"
                raise ConfigError(msg)
        for name in ("constant_term", "radial_jitter", "pion_fem_sigma", "tail_weight", "albedo_weight"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and 0 <= value < 1):
                msg = f"SimConfig.{name} must lie in [0, 1), got {value!r}"
                raise ConfigError(msg)
        if self.threshold_mev is not None and not (math.isfinite(self.threshold_mev) and self.threshold_mev >= 0):
            msg = f"SimConfig.threshold_mev must be None or >= 0, got {self.threshold_mev!r}"
            raise ConfigError(msg)
        if self.particle not in (None, "electron", "photon", "pion"):
            msg = f"SimConfig.particle must be None, 'electron', 'photon' or 'pion', got {self.particle!r}"
            raise ConfigError(msg)
        if not (isinstance(self.pion_em_subshowers, int) and 1 <= self.pion_em_subshowers <= 16):
            msg = f"SimConfig.pion_em_subshowers must be an integer in 1..16, got {self.pion_em_subshowers!r}"
            raise ConfigError(msg)

    def replace(self, **changes: Any) -> SimConfig:
        """A copy with ``changes`` applied; unknown keys raise :class:`ConfigError`."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            msg = f"unknown SimConfig key(s) {', '.join(unknown)}; valid: {', '.join(sorted(known))}"
            raise ConfigError(msg)
        return dataclasses.replace(self, **changes)

    def to_attrs(self) -> dict[str, Any]:
        """HDF5-storable attributes ``sim_<field>`` (``None`` is stored as the string ``"none"``)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[ATTR_PREFIX + f.name] = "none" if value is None else value
        return out

    @classmethod
    def from_attrs(cls, attrs: dict[str, Any]) -> SimConfig:
        """Rebuild a config from :meth:`to_attrs` output (other attributes are ignored)."""
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            key = ATTR_PREFIX + f.name
            if key not in attrs:
                continue
            value = attrs[key]
            if isinstance(value, bytes):
                value = value.decode()
            if isinstance(value, str) and value == "none":
                value = None
            elif hasattr(value, "item"):
                value = value.item()
            kwargs[f.name] = value
        return cls(**kwargs)
