"""The built-in geometries: the four CaloChallenge 2022 detectors and a tiny one for fast tests.

Numbers are the official ones (CaloChallenge ``binning_dataset_*.xml``; dataset descriptions on the
CaloChallenge homepage), written here in our own format; ``tests/test_geometry.py`` checks them against
the official XML files where those are available.

- ``1-photons`` / ``1-pions``: ATLAS open-data barrel slice 0.20 < |eta| < 0.25; layer ids follow
  ATLAS CaloSampling (0 presampler, 1-3 EM barrel, 12-14 Tile barrel); 368 / 533 voxels.
- ``2``: Geant4 Par04 W/Si cylinder, 45 layers x 16 alpha x 9 r (edges k * 4.65 mm), 6480 voxels.
- ``3``: the same detector with 45 x 50 x 18 (edges k * 2.325 mm), 40500 voxels.
- ``tiny``: the Par04 detector read out in 9 layers x 8 alpha x 5 r (edges k * 8.37 mm), 360 voxels.
"""

from __future__ import annotations

from calovq.exceptions import GeometryError
from calovq.geometry.binning import Geometry, Layer

__all__ = [
    "DS1_ENERGIES_MEV",
    "GEOMETRY_NAMES",
    "dataset1_energy_counts",
    "geometry_for_voxels",
    "get_geometry",
]

#: Incident energies of dataset 1: 2^8 ... 2^22 MeV.
DS1_ENERGIES_MEV: tuple[float, ...] = tuple(float(2**k) for k in range(8, 23))

_DS1_EMPTY = (0.0,)


def _ds1_layers(binned: dict[int, tuple[tuple[float, ...], int]]) -> tuple[Layer, ...]:
    """All 24 CaloSampling ids, with the unbinned ones as ``r_edges = (0,)`` like the official XML."""
    return tuple(Layer(i, *binned.get(i, (_DS1_EMPTY, 1))) for i in range(24))


_PS = (0.0, 5.0, 10.0, 30.0, 50.0, 100.0, 200.0, 400.0, 600.0)
_EMB3 = (0.0, 50.0, 100.0, 200.0, 400.0, 600.0)
_TILE0_PI = (0.0, 10, 20, 30, 50, 80, 100, 130, 160, 200, 250, 300, 350, 400, 1000, 2000)

_PHOTONS = _ds1_layers(
    {
        0: (_PS, 1),
        1: ((0.0, 2, 4, 6, 8, 10, 12, 15, 20, 30, 40, 50, 70, 90, 120, 150, 200), 10),
        2: ((0.0, 2, 5, 10, 15, 20, 25, 30, 40, 50, 60, 80, 100, 130, 160, 200, 250, 300, 350, 400), 10),
        3: (_EMB3, 1),
        12: ((0.0, 100, 200, 400, 1000, 2000), 1),
    }
)
_PIONS = _ds1_layers(
    {
        0: (_PS, 1),
        1: ((0.0, 1, 4, 7, 10, 15, 30, 50, 90, 150, 200), 10),
        2: ((0.0, 5, 10, 20, 30, 50, 80, 130, 200, 300, 400), 10),
        3: (_EMB3, 1),
        12: (_TILE0_PI, 10),
        13: ((*_TILE0_PI[:14], 600.0, *_TILE0_PI[14:]), 10),
        14: ((0.0, 50, 100, 150, 200, 250, 300, 400, 600, 1000, 2000), 1),
    }
)


def _regular(n_layers: int, n_alpha: int, n_r: int, r_max: float = 41.85) -> tuple[Layer, ...]:
    step = r_max / n_r
    edges = tuple(round(k * step, 6) for k in range(n_r + 1))
    return tuple(Layer(i, edges, n_alpha) for i in range(n_layers))


_DS1_KW: dict[str, object] = {
    "threshold_mev": 1.0,
    "energy_range_mev": (DS1_ENERGIES_MEV[0], DS1_ENERGIES_MEV[-1]),
    "discrete_energies_mev": DS1_ENERGIES_MEV,
}
_PAR04_DESC = "Geant4 Par04 W/Si cylinder (1.4 mm W + 0.3 mm Si per sampling layer), e- 1 GeV - 1 TeV"

_BUILTIN: dict[str, Geometry] = {
    "1-photons": Geometry(
        name="1-photons",
        layers=_PHOTONS,
        particle="photon",
        pid=22,
        eta_range=(0, 130),
        description="ATLAS open-data barrel (0.20 < |eta| < 0.25), photons",
        **_DS1_KW,  # type: ignore[arg-type]
    ),
    "1-pions": Geometry(
        name="1-pions",
        layers=_PIONS,
        particle="pion",
        pid=211,
        eta_range=(0, 80),
        description="ATLAS open-data barrel (0.20 < |eta| < 0.25), charged pions",
        **_DS1_KW,  # type: ignore[arg-type]
    ),
    "2": Geometry(name="2", layers=_regular(45, 16, 9), description=_PAR04_DESC),
    "3": Geometry(name="3", layers=_regular(45, 50, 18), description=_PAR04_DESC),
    "tiny": Geometry(name="tiny", layers=_regular(9, 8, 5), description=_PAR04_DESC + " (coarse test readout)"),
}

#: Names accepted by :func:`get_geometry` (aliases such as ``ds2`` or ``dataset_2`` also work).
GEOMETRY_NAMES: tuple[str, ...] = tuple(_BUILTIN)

_ALIASES = {
    "1-photon": "1-photons",
    "1p": "1-photons",
    "photons": "1-photons",
    "1-pion": "1-pions",
    "pions": "1-pions",
}


def _canonical(name: str) -> str:
    key = str(name).strip().lower().replace("_", "-")
    for prefix in ("dataset-", "dataset", "ds"):
        if key.startswith(prefix) and key[len(prefix) :][:1].isdigit():
            key = key[len(prefix) :]
            break
    return _ALIASES.get(key, key)


def get_geometry(name: str | Geometry) -> Geometry:
    """Return a built-in geometry by name (``"1-photons"``, ``"1-pions"``, ``"2"``, ``"3"``, ``"tiny"``).

    A path ending in ``.xml`` is parsed as a CaloChallenge binning XML. A :class:`Geometry` passes through.

    Raises:
        GeometryError: unknown name (the message lists the valid ones).
    """
    if isinstance(name, Geometry):
        return name
    if str(name).lower().endswith(".xml"):
        from calovq.geometry.binning import geometry_from_xml

        return geometry_from_xml(name)
    key = _canonical(name)
    try:
        return _BUILTIN[key]
    except KeyError:
        msg = f"unknown geometry {name!r}; valid names: {', '.join(GEOMETRY_NAMES)} (or a binning .xml path)"
        raise GeometryError(msg) from None


def geometry_for_voxels(n_voxels: int) -> Geometry | None:
    """The built-in geometry with ``n_voxels`` voxels, or None (the five counts are all distinct)."""
    for geo in _BUILTIN.values():
        if geo.n_voxels == n_voxels:
            return geo
    return None


def dataset1_energy_counts(geometry: Geometry) -> dict[float, int]:
    """Showers per incident energy in the official dataset-1 files (both files together).

    10k per energy up to 2^18 MeV (pions: 9.8k at 2^18 = 262 GeV), then 5k, 3k, 2k, 1k for the top four.
    """
    if not geometry.discrete_energies_mev:
        msg = f"geometry {geometry.name!r} has continuous incident energies"
        raise GeometryError(msg)
    counts = {e: 10000 for e in geometry.discrete_energies_mev}
    top = geometry.discrete_energies_mev[-4:]
    counts.update(dict(zip(top, (5000, 3000, 2000, 1000), strict=True)))
    if geometry.particle == "pion":
        counts[float(2**18)] = 9800
    return counts
