"""Physics properties of the embedded simulator against physics.md section 7 (tolerances documented there)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from calovq.geometry import get_geometry
from calovq.simulate import SimConfig, simulate
from calovq.simulate.materials import PAR04

SHARED = Path(__file__).parents[2] / "shared"
CORRELATIONS = SHARED / "calochallenge" / "geant4_layer_energy_correlations.json"
DS2 = get_geometry("2")
LAYER_X0 = 3.4 / PAR04.x0_mm  # one ds2 readout layer in X0,eff


def layer_energies(geo, showers: np.ndarray) -> np.ndarray:
    return np.stack([showers[:, geo.layer_slice(k)].sum(axis=1) for k in range(geo.n_layers)], axis=1)


def mean_depth_x0(showers: np.ndarray) -> np.ndarray:
    """Energy-weighted mean depth (X0) of each ds2 shower."""
    lay = layer_energies(DS2, showers)
    z = (np.arange(DS2.n_layers) + 0.5) * LAYER_X0
    return (lay * z).sum(axis=1) / lay.sum(axis=1)


@pytest.fixture(scope="module")
def ds2_by_energy() -> dict[float, np.ndarray]:
    return {e: simulate(DS2, 150, 11, energies=[e])[1] for e in (1e3, 1e4, 1e5, 1e6)}


def test_shower_depth_moves_ln10_per_decade(ds2_by_energy):
    depths = [mean_depth_x0(s).mean() for s in ds2_by_energy.values()]
    shifts = np.diff(depths)
    assert np.all((shifts > 1.8) & (shifts < 2.8)), shifts  # ln 10 = 2.30 X0 per decade


def test_shower_maximum_at_10_gev(ds2_by_energy):
    profile = layer_energies(DS2, ds2_by_energy[1e4]).mean(axis=0)
    t_max = (np.argmax(profile) + 0.5) * LAYER_X0
    # PDG t_max = ln(E/E_c) - 0.5 = 6.6 X0, GFlash-sampling 5.9 X0; accept about 1 X0
    assert 5.0 < t_max < 7.6


def test_photons_start_deeper_than_electrons():
    e_el = simulate(DS2, 200, 12, energies=[1e4], config=SimConfig(particle="electron"))[1]
    e_ph = simulate(DS2, 200, 12, energies=[1e4], config=SimConfig(particle="photon"))[1]
    delta = mean_depth_x0(e_ph).mean() - mean_depth_x0(e_el).mean()
    assert 0.8 < delta < 1.8  # mean conversion depth 9/7 = 1.29 X0


def test_ds1_photons_deeper_than_electrons():
    geo = get_geometry("1-photons")
    frac = {}
    for particle in ("photon", "electron"):
        _, s = simulate(geo, 300, 13, energies=[8192.0], config=SimConfig(particle=particle))
        lay = layer_energies(geo, s)
        frac[particle] = (lay[:, 1] / lay.sum(axis=1)).mean()  # EMB1 share
    assert frac["photon"] < frac["electron"] - 0.05


def test_radial_containment(ds2_by_energy):
    s = ds2_by_energy[1e4]
    rings = s.reshape(len(s), *DS2.shape).sum(axis=(0, 1, 2))
    edges = np.asarray(DS2.binned_layers[0].r_edges)
    cum = np.concatenate([[0.0], np.cumsum(rings)]) / rings.sum()

    def within(n_rm: float) -> float:
        return float(np.interp((n_rm * PAR04.rm_mm) ** 2, edges**2, cum))

    assert 0.85 < within(1.0) < 0.95  # PDG: about 90% within 1 R_M
    assert within(2.0) > 0.93  # 95%
    assert within(3.5) > 0.98  # 99%


@pytest.mark.parametrize(("c", "energy"), [(0.13, 4e3), (0.13, 3.2e4), (0.2, 4e3)])
def test_response_and_stochastic_term(c, energy):
    _, s = simulate(DS2, 400, 14, energies=[energy], config=SimConfig(stochastic_term=c))
    ratio = s.sum(axis=1) / energy
    assert 0.95 < ratio.mean() < 1.01  # calibrated, minus 1-2% lateral and longitudinal leakage
    c_measured = ratio.std() / ratio.mean() * math.sqrt(energy / 1e3)
    assert c_measured == pytest.approx(c, rel=0.2)


def test_constant_term_dominates_at_1_tev(ds2_by_energy):
    ratio = ds2_by_energy[1e6].sum(axis=1) / 1e6
    # sqrt((0.13/sqrt(1000))^2 + 0.007^2) = 0.8%; leakage fluctuations add a little
    assert 0.005 < ratio.std() / ratio.mean() < 0.015


def test_sparsity_and_threshold(ds2_by_energy):
    zero_1gev = (ds2_by_energy[1e3] == 0).mean()
    zero_1tev = (ds2_by_energy[1e6] == 0).mean()
    assert zero_1gev > 0.9
    assert 0.1 < zero_1tev < 0.7
    for s in ds2_by_energy.values():
        assert s[s > 0].min() >= DS2.threshold_mev  # 15.15 keV after summing each voxel


def test_voxel_spectrum_has_soft_and_hard_cells(ds2_by_energy):
    cells = ds2_by_energy[1e5]
    cells = cells[cells > 0]
    assert (cells < 1.0).mean() > 0.02  # soft deposits well below one MIP (about 2.5-3.5 MeV stored)
    assert cells.max() > 300.0  # shower-core voxels hold several hundred MeV at 100 GeV


@pytest.mark.skipif(not CORRELATIONS.is_file(), reason="shared Geant4 correlation file not available")
@pytest.mark.parametrize(
    ("dataset", "n", "max_mean_diff"), [("2", 4000, 0.055), ("1-photons", 3000, 0.13), ("1-pions", 2000, 0.08)]
)
def test_layer_correlations_near_geant4(dataset, n, max_mean_diff):
    ref = np.asarray(json.loads(CORRELATIONS.read_text())["datasets"][dataset])
    geo = get_geometry(dataset)
    _, s = simulate(geo, n, 15)
    corr = np.corrcoef(layer_energies(geo, s).T)
    assert np.abs(corr - ref).mean() < max_mean_diff  # measured 0.039 / 0.091 / 0.058 (docs/simulator.md)
    adjacent, adjacent_ref = np.diag(corr, 1), np.diag(ref, 1)
    assert abs(adjacent.mean() - adjacent_ref.mean()) < (0.06 if dataset == "1-pions" else 0.08)
    if dataset == "2":
        assert np.all(adjacent[5:35] > 0.9)  # mid-shower layers move together (Geant4: 0.98-0.99)
        assert abs(corr[0, 1] - ref[0, 1]) < 0.12  # early-regime + albedo: layer 0 follows the shower
        assert abs(corr[0, 10] - ref[0, 10]) < 0.12
        assert abs(corr[2, 20] - ref[2, 20]) < 0.15  # early layers scale with E like Geant4's
        assert 0.25 < corr[0, -1] < 0.65  # Geant4: 0.45
    if dataset == "1-photons":
        assert abs(corr[0, 1] - ref[0, 1]) < 0.1  # PS-EMB1, Geant4 0.76
    if dataset == "1-pions":
        # charged secondaries of early interactions make the presampler scale with E (was 0.41; Geant4 0.78)
        assert abs(corr[0, 1] - ref[0, 1]) < 0.22  # measured 0.62
        # pi0 generations along the cascade move the Tile layers together (were 0.53 / 0.41; Geant4 0.67 / 0.72)
        assert abs(corr[4, 5] - ref[4, 5]) < 0.12  # measured 0.63
        assert abs(corr[5, 6] - ref[5, 6]) < 0.2  # measured 0.56 (0.58-0.69 for other seeds, n = 12000)
        assert abs(corr[0, 6] - ref[0, 6]) < 0.1  # PS-Tile2, Geant4 0.07


def test_greisen_early_profile_holds_the_energy():
    """E_c times Greisen's particle count integrates to about E (track length E / E_c X0, approx. B)."""
    from calovq.simulate.em import EMShowers, early_fractions

    ones = np.ones(3)
    showers = EMShowers(np.array([1.0, 10.0, 1000.0]), 0 * ones, ones, 2 * ones, 2 * ones, ones, ones)
    total = early_fractions(showers, np.linspace(0.0, 200.0, 2001), PAR04.ec_mev).sum(axis=1)
    np.testing.assert_allclose(total, 1.0, atol=0.06)


def test_pion_response_with_low_tail():
    geo = get_geometry("1-pions")
    e, s = simulate(geo, 3000, 16)
    ratio = s.sum(axis=1) / e
    assert 0.5 < ratio.mean() < 0.85
    high = ratio[e >= 2**14]
    assert 0.5 < np.median(high) < 0.9
    assert np.quantile(high, 0.02) < np.median(high) - 2.5 * (np.quantile(high, 0.84) - np.median(high))


def test_pion_charged_multiplicity():
    from calovq.simulate.hadronic import charged_multiplicity

    n_ch = charged_multiplicity(np.array([16.0, 262.0, 4194.0]))
    np.testing.assert_allclose(n_ch, [6.4, 13.8, 24.3], rtol=0.05)  # pp fit x R_A = 1.7


def test_presampler_hadronic_clumps_are_a_few_mips():
    from calovq.simulate.detectors import build_stack
    from calovq.simulate.readout import HAD_CLUMP_MIPS, voxel_spot_means

    geo = get_geometry("1-pions")
    _, eps_had = voxel_spot_means(build_stack(geo, SimConfig()), 0.5)
    ps = eps_had[geo.layer_slice(0)]
    assert np.all(ps <= HAD_CLUMP_MIPS * 3.0 + 1e-9)  # presampler MIP signal 3 MeV
    assert eps_had[geo.layer_slice(4)].min() > 50.0  # Tile: the 0.5 sqrt(GeV) hadronic sampling term


def test_pion_mean_depth_grows_with_energy():
    geo = get_geometry("1-pions")
    tile = []
    for energy in (4096.0, 262144.0):
        _, s = simulate(geo, 400, 17, energies=[energy])
        lay = layer_energies(geo, s)
        tile.append(lay[:, 4:].sum() / lay.sum())
    assert tile[1] > tile[0]


def test_official_energy_spectra():
    e1, _ = simulate("1-photons", 2000, 18)
    values, counts = np.unique(e1, return_counts=True)
    assert set(values) <= {2.0**k for k in range(8, 23)}
    assert counts[values == 2.0**8][0] > 5 * counts[values == 2.0**22][0]  # 10k vs 1k officially
    e2, _ = simulate("tiny", 2000, 18)
    assert e2.min() >= 1e3
    assert e2.max() <= 1e6
    assert np.median(np.log10(e2)) == pytest.approx(4.5, abs=0.15)  # log-uniform over 1 GeV - 1 TeV
