"""Separation power and the official binnings (eq. 15 of arXiv:2009.03796; docs/evaluation.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from calovq.evaluate.features import compute_features
from calovq.evaluate.separation import (
    HistogramAccumulator,
    compare_features,
    density,
    ds1_energy_ranges,
    feature_specs,
    mean_separation,
    separation_power,
    separation_power_counts,
    voxel_spec,
)
from calovq.geometry import get_geometry


def test_identical_histograms_give_zero() -> None:
    edges = np.linspace(0, 1, 11)
    c = np.array([1, 5, 3, 0, 0, 2, 8, 1, 1, 4])
    assert separation_power_counts(c, c, edges) == 0.0
    assert separation_power_counts(c, 3 * c, edges) == pytest.approx(0.0, abs=1e-15)


def test_disjoint_histograms_give_one() -> None:
    edges = np.linspace(0, 1, 5)
    assert separation_power_counts(np.array([3, 1, 0, 0]), np.array([0, 0, 2, 7]), edges) == pytest.approx(1.0)


def test_hand_computed_case() -> None:
    # p = (1/2, 1/2, 0), q = (1/4, 1/4, 1/2):
    # S = 1/2 [ (1/4)^2/(3/4) * 2 + (1/2)^2/(1/2) ] = 1/2 [ 1/6 + 1/2 ] = 1/3
    edges = np.array([0.0, 1.0, 3.0, 4.0])  # uneven widths: densities differ, probabilities do not
    assert separation_power_counts(np.array([2, 2, 0]), np.array([1, 1, 2]), edges) == pytest.approx(1 / 3)
    # same thing through numpy densities, as the official script does
    a = np.array([0.5, 0.5, 1.5, 1.5])
    b = np.array([0.5, 2.0, 3.5, 3.5])
    ha, _ = np.histogram(a, edges, density=True)
    hb, _ = np.histogram(b, edges, density=True)
    assert separation_power(ha, hb, edges) == pytest.approx(1 / 3)


def test_density_matches_numpy_and_empty_is_nan() -> None:
    rng = np.random.default_rng(0)
    edges = np.logspace(-2, 2, 40)
    x = rng.lognormal(0, 1, 1000)
    acc = HistogramAccumulator(edges)
    for chunk in np.array_split(x, 7):
        acc.fill(chunk)
    np.testing.assert_allclose(density(acc.counts, edges), np.histogram(x, edges, density=True)[0], rtol=1e-13)
    assert math.isnan(separation_power_counts(np.zeros(39), acc.counts, edges))


def test_official_binnings_dataset2() -> None:
    geo = get_geometry("2")
    rng = np.random.default_rng(2)
    s = rng.exponential(1.0, (20, geo.n_voxels)).astype(np.float32)
    ref = compute_features(rng.uniform(1e3, 1e6, 20), s, geo)
    specs = {sp.key: sp for sp in feature_specs(geo, ref)}
    assert len(specs["E_ratio"].edges) == 101
    assert specs["E_ratio"].edges[[0, -1]].tolist() == [0.5, 1.5]
    el = specs["E_layer_7"].edges
    assert len(el) == 40
    assert el[0] == pytest.approx(0.5e-3 / 0.033)
    assert el[-1] == pytest.approx(ref.e_layer[:, 7].max())
    assert specs["EC_eta_0"].edges[[0, -1]].tolist() == [-30, 30]
    assert len(specs["EC_eta_0"].edges) == 101
    assert specs["width_phi_44"].edges[[0, -1]].tolist() == [0, 30]
    assert specs["EC_r_3"].edges[[0, -1]].tolist() == [0, 42]
    assert specs["width_r_3"].edges[[0, -1]].tolist() == [0, 20]
    assert len(specs["sparsity_0"].edges) == 21
    assert not any(k.startswith("E_ratio_E") for k in specs)
    # 1 + 45 x (E_layer, 4 eta/phi, EC_r, width_r, sparsity)
    assert len(specs) == 1 + 45 * 8
    v = voxel_spec(geo, 123.0)
    assert len(v.edges) == 50
    assert v.edges[-1] == pytest.approx(123.0)


def test_official_binnings_dataset1() -> None:
    for name, alpha_layers, n_layers in (("1-photons", (1, 2), 5), ("1-pions", (1, 2, 12, 13), 7)):
        geo = get_geometry(name)
        s = np.ones((3, geo.n_voxels), dtype=np.float32) * 2
        ref = compute_features(np.full(3, 2.0**14), s, geo)
        specs = {sp.key: sp for sp in feature_specs(geo, ref)}
        assert sorted(k for k in specs if k.startswith("EC_eta")) == sorted(f"EC_eta_{i}" for i in alpha_layers)
        assert specs["EC_eta_1"].edges[[0, -1]].tolist() == [-100, 100]
        assert specs["width_eta_2"].edges[[0, -1]].tolist() == [0, 100]
        assert specs["EC_r_12"].edges[[0, -1]].tolist() == [0, 1500]
        assert specs["width_r_3"].edges[[0, -1]].tolist() == [0, 500]
        per_e = [k for k in specs if k.startswith("E_ratio_E")]
        assert len(per_e) == 15
        n = 1 + 15 + n_layers * 4 + 4 * len(alpha_layers)
        assert len(specs) == n
    pions = get_geometry("1-pions")
    specs = {sp.key: sp for sp in feature_specs(pions, compute_features(np.full(2, 1e4), np.ones((2, 533)), pions))}
    assert specs["EC_eta_13"].edges[[0, -1]].tolist() == [-500, 500]
    assert specs["width_phi_12"].edges[[0, -1]].tolist() == [0, 400]
    ranges = ds1_energy_ranges(get_geometry("1-photons"))
    assert [lo for lo, _, _ in ranges[:2]] == [256.0, 512.0]
    assert ranges[3][2][[0, -1]].tolist() == [0.4, 1.4]
    assert ranges[4][2][[0, -1]].tolist() == [0.9, 1.1]
    assert ds1_energy_ranges(pions)[10][2][[0, -1]].tolist() == [0.4, 1.4]


def test_compare_features_flags_a_shift() -> None:
    geo = get_geometry("tiny")
    rng = np.random.default_rng(3)
    e = rng.uniform(1e3, 1e4, 400)
    s = (rng.exponential(1.0, (400, geo.n_voxels)) * e[:, None] / 360).astype(np.float32)
    ref = compute_features(e, s, geo)
    same = compute_features(e, s, geo)
    shifted = compute_features(e, s * 1.3, geo)
    specs = feature_specs(geo, ref)
    m_same = mean_separation(compare_features(ref, same, specs))
    m_shift = mean_separation(compare_features(ref, shifted, specs))
    assert m_same["mean"] == pytest.approx(0.0, abs=1e-12)
    assert m_shift["per_group"]["E_ratio"] > 0.8
    assert m_shift["mean"] > m_same["mean"]
