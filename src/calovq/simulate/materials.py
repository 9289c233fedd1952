"""Materials and effective sampling media (PDG Atomic & Nuclear Properties; physics.md section 4).

A sampling calorimeter is described by one period of passive and active layers. Its effective radiation
length, Moliere radius, critical energy and interaction length follow from the mass fractions w_j
(physics.md section 4, "Mixing"):

    1/X0 = sum w_j / X0_j,   1/R_M = sum w_j E_c,j / (X0_j * 21.2 MeV),   E_c = X0 * sum w_j E_c,j / X0_j,
    1/lambda_I = sum w_j / lambda_I,j   (all in g/cm^2, converted to lengths with the period's density).

GFlash's sampling parametrisation (Grindhammer & Peters, hep-ex/0001020) further needs Z_eff = sum w_j Z_j,
the sampling frequency F_s = X0,eff / (d_active + d_passive) and e/mip = 1 / (1 + 0.007 (Z_pas - Z_act)).
E_c uses the PDG critical energies directly, avoiding the Geant4 unit pitfall (X0 in mm instead of
g/cm^2 in 2.66 (X0 Z/A)^1.1, which doubles R_M; physics.md section 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "ATLAS_ACCORDION",
    "ATLAS_TILE",
    "MATERIALS",
    "PAR04",
    "Material",
    "SamplingMedium",
    "sampling_medium",
]

#: Moliere scale energy E_s of R_M = X0 E_s / E_c (MeV).
E_S_MEV = 21.2


@dataclass(frozen=True)
class Material:
    """A pure material (PDG values).

    Attributes:
        name: short name.
        z: atomic number (effective for compounds).
        density: g/cm^3.
        x0: radiation length in g/cm^2.
        ec_mev: critical energy for electrons in MeV.
        lambda_i: nuclear interaction length in g/cm^2.
        dedx_min: minimum ionisation dE/dx in MeV cm^2/g.
    """

    name: str
    z: float
    density: float
    x0: float
    ec_mev: float
    lambda_i: float
    dedx_min: float


#: PDG values from physics.md section 4.
MATERIALS: dict[str, Material] = {
    "W": Material("W", 74, 19.3, 6.76, 7.97, 191.9, 1.145),
    "Si": Material("Si", 14, 2.329, 21.82, 40.19, 108.4, 1.664),
    "Pb": Material("Pb", 82, 11.35, 6.37, 7.43, 199.6, 1.122),
    "LAr": Material("LAr", 18, 1.396, 19.55, 32.84, 119.7, 1.519),
    "Fe": Material("Fe", 26, 7.874, 13.84, 21.68, 132.1, 1.451),
    "Scint": Material("Scint", 3.5, 1.06, 43.8, 93.0, 77.1, 1.94),
}


@dataclass(frozen=True)
class SamplingMedium:
    """Effective (homogenised) medium of a sampling calorimeter period.

    Attributes:
        name: label.
        x0_mm: effective radiation length (mm).
        rm_mm: effective Moliere radius (mm).
        ec_mev: effective critical energy (MeV).
        lambda_mm: effective nuclear interaction length (mm).
        z_eff: mass-weighted atomic number.
        fs: sampling frequency F_s = X0,eff / period thickness (both in mm).
        ehat: e/mip ratio, 1 / (1 + 0.007 (Z_passive - Z_active)).
        mip_fraction: sampling fraction of a minimum-ionising particle (active dE/dx share).
    """

    name: str
    x0_mm: float
    rm_mm: float
    ec_mev: float
    lambda_mm: float
    z_eff: float
    fs: float
    ehat: float
    mip_fraction: float

    @property
    def e_fraction(self) -> float:
        """Sampling fraction of electrons, ``ehat * mip_fraction``."""
        return self.ehat * self.mip_fraction


def sampling_medium(name: str, layers: list[tuple[str, float]], active: str) -> SamplingMedium:
    """Effective parameters of a periodic stack.

    Args:
        name: label of the medium.
        layers: one period as ``(material name, thickness in mm)``.
        active: the active material's name (its Z enters e/mip; the others are passive).

    Returns:
        The homogenised :class:`SamplingMedium`.
    """
    mats = [(MATERIALS[m], d) for m, d in layers]
    areal = [mat.density * d / 10.0 for mat, d in mats]  # g/cm^2 per period
    total = sum(areal)
    thickness = sum(d for _, d in mats)
    rho = total / (thickness / 10.0)
    w = [a / total for a in areal]
    inv_x0 = sum(wj / mat.x0 for wj, (mat, _) in zip(w, mats, strict=True))
    x0 = 1.0 / inv_x0
    ec = x0 * sum(wj * mat.ec_mev / mat.x0 for wj, (mat, _) in zip(w, mats, strict=True))
    rm = 1.0 / sum(wj * mat.ec_mev / (mat.x0 * E_S_MEV) for wj, (mat, _) in zip(w, mats, strict=True))
    lam = 1.0 / sum(wj / mat.lambda_i for wj, (mat, _) in zip(w, mats, strict=True))
    z_eff = sum(wj * mat.z for wj, (mat, _) in zip(w, mats, strict=True))
    pas = [(mat, a) for (mat, _), a in zip(mats, areal, strict=True) if mat.name != active]
    pas_mass = sum(a for _, a in pas)
    z_pas = sum(mat.z * a for mat, a in pas) / pas_mass if pas_mass > 0 else MATERIALS[active].z
    ehat = 1.0 / (1.0 + 0.007 * (z_pas - MATERIALS[active].z))
    dedx = [mat.dedx_min * a for (mat, _), a in zip(mats, areal, strict=True)]
    mip = sum(e for e, (mat, _) in zip(dedx, mats, strict=True) if mat.name == active) / sum(dedx)
    return SamplingMedium(
        name=name,
        x0_mm=10.0 * x0 / rho,
        rm_mm=10.0 * rm / rho,
        ec_mev=ec,
        lambda_mm=10.0 * lam / rho,
        z_eff=z_eff,
        fs=(10.0 * x0 / rho) / thickness,
        ehat=ehat,
        mip_fraction=mip,
    )


#: Geant4 Par04 W/Si: 1.4 mm W + 0.3 mm Si per period (X0 4.22 mm, R_M 10.9 mm, E_c 8.23 MeV, F_s 2.48).
PAR04 = sampling_medium("Par04 W/Si", [("W", 1.4), ("Si", 0.3)], active="Si")

#: ATLAS EM barrel accordion: Pb 1.53 mm + 0.4 mm steel + 4.2 mm LAr (approximate, physics.md section 4).
ATLAS_ACCORDION = sampling_medium("ATLAS LAr accordion", [("Pb", 1.53), ("Fe", 0.4), ("LAr", 4.2)], active="LAr")

#: ATLAS Tile: 14 mm Fe : 3 mm scintillator.
ATLAS_TILE = sampling_medium("ATLAS Tile", [("Fe", 14.0), ("Scint", 3.0)], active="Scint")

assert math.isclose(PAR04.x0_mm, 4.22, rel_tol=0.01)  # internal consistency with physics.md
