"""High-level features on hand-computed showers (definitions: docs/evaluation.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from calovq.data import write_showers
from calovq.evaluate.features import (
    HighLevelFeatures,
    alpha_binned_positions,
    apply_threshold,
    compute_features,
    features_from_file,
)
from calovq.geometry import get_geometry

TINY = get_geometry("tiny")


def _one_voxel(geo, index: int, energy: float = 5.0) -> np.ndarray:
    s = np.zeros((1, geo.n_voxels), dtype=np.float32)
    s[0, index] = energy
    return s


@pytest.mark.parametrize("index", [0, 7, 123, 359])
def test_one_voxel_centre_is_the_voxel_and_width_is_zero(index: int) -> None:
    f = compute_features(np.array([100.0]), _one_voxel(TINY, index), TINY)
    pos = int(TINY.voxel_layer[index])
    assert f.e_layer[0, pos] == pytest.approx(5.0)
    assert f.e_tot[0] == pytest.approx(5.0)
    assert f.e_ratio[0] == pytest.approx(0.05)
    assert f.ec_r[0, pos] == pytest.approx(TINY.voxel_r[index])
    assert f.ec_eta[0, pos] == pytest.approx(TINY.voxel_eta[index])
    assert f.ec_phi[0, pos] == pytest.approx(TINY.voxel_phi[index])
    for w in (f.width_r, f.width_eta, f.width_phi):
        assert w[0, pos] == pytest.approx(0.0, abs=1e-6)
    # every other layer is empty: centres and widths are 0 thanks to the 1e-16 guard
    others = [p for p in range(TINY.n_layers) if p != pos]
    assert np.all(f.e_layer[0, others] == 0)
    assert np.all(f.ec_r[0, others] == 0)
    assert np.all(np.isfinite(f.matrix()))


def test_two_voxel_width_by_hand() -> None:
    # layer 0, alpha bin 0, r bins 0 and 2: same angle, radii r0 and r2, energies 1 and 3
    geo = TINY
    layer = geo.binned_layers[0]
    r_mid = layer.r_mid
    alpha = layer.alpha_mid[0]
    s = np.zeros((1, geo.n_voxels), dtype=np.float32)
    s[0, 0], s[0, 2] = 1.0, 3.0
    f = compute_features(np.array([10.0]), s, geo)
    ec_r = (1 * r_mid[0] + 3 * r_mid[2]) / 4
    width_r = math.sqrt((1 * r_mid[0] ** 2 + 3 * r_mid[2] ** 2) / 4 - ec_r**2)
    assert f.ec_r[0, 0] == pytest.approx(ec_r)
    assert f.width_r[0, 0] == pytest.approx(width_r)
    # the two voxels lie on one ray: eta and phi are r*cos/sin(alpha), so widths scale with |cos|, |sin|
    assert f.ec_eta[0, 0] == pytest.approx(ec_r * math.cos(alpha))
    assert f.width_eta[0, 0] == pytest.approx(width_r * abs(math.cos(alpha)))
    assert f.width_phi[0, 0] == pytest.approx(width_r * abs(math.sin(alpha)))
    # hand numbers: r edges k * 8.37 mm -> mids 4.185 and 20.925; EC_r = 16.74, width_r = 7.2492...
    assert ec_r == pytest.approx(16.74)
    assert width_r == pytest.approx(math.sqrt(3) / 4 * 16.74)


def test_threshold_zeroes_small_voxels_before_features() -> None:
    thr = TINY.threshold_mev  # 15.15 keV
    s = np.zeros((1, TINY.n_voxels), dtype=np.float32)
    s[0, 0] = 0.5 * thr
    s[0, 1] = 2.0
    out = apply_threshold(s, thr, copy=True)
    assert out[0, 0] == 0
    assert out[0, 1] == 2.0
    assert s[0, 0] > 0
    f = compute_features(np.array([10.0]), s, TINY)
    assert f.e_layer[0, 0] == pytest.approx(2.0)
    assert f.sparsity[0, 0] == pytest.approx(1 - 1 / 40)
    # dataset 1 uses 1 MeV
    ds1 = get_geometry("1-photons")
    s1 = np.full((1, ds1.n_voxels), 0.9, dtype=np.float32)
    assert compute_features(np.array([1000.0]), s1, ds1).e_tot[0] == 0


def test_sparsity_by_hand() -> None:
    s = np.zeros((1, TINY.n_voxels), dtype=np.float32)
    s[0, :10] = 1.0  # 10 of the 40 voxels of layer 0
    s[0, 40:80] = 1.0  # all of layer 1
    f = compute_features(np.array([100.0]), s, TINY)
    assert f.sparsity[0, 0] == pytest.approx(0.75)
    assert f.sparsity[0, 1] == pytest.approx(0.0)
    assert f.sparsity[0, 2] == pytest.approx(1.0)


def test_dataset1_alpha_binned_layers_and_vector_order() -> None:
    photons, pions = get_geometry("1-photons"), get_geometry("1-pions")
    assert photons.layer_ids == (0, 1, 2, 3, 12)
    assert pions.layer_ids == (0, 1, 2, 3, 12, 13, 14)
    assert [photons.layer_ids[i] for i in alpha_binned_positions(photons)] == [1, 2]
    assert [pions.layer_ids[i] for i in alpha_binned_positions(pions)] == [1, 2, 12, 13]
    rng = np.random.default_rng(0)
    s = rng.exponential(5.0, size=(4, photons.n_voxels)).astype(np.float32)
    f = compute_features(np.full(4, 2.0**12), s, photons)
    m = f.matrix()
    names = f.column_names()
    # 5 E_layer + 4 x 2 eta/phi + 1 E_tot + 3 x 5 (sparsity, EC_r, width_r)
    assert m.shape == (4, 5 + 8 + 1 + 15) == (4, len(names))
    assert names[:6] == [f"log10_E_layer_{i}" for i in (0, 1, 2, 3, 12)] + ["EC_eta_1/100"]
    assert names[13] == "log10_E_tot"
    np.testing.assert_allclose(m[:, 13], np.log10(f.e_tot + 1e-8))
    np.testing.assert_allclose(m[:, 5], f.ec_eta[:, 0] / 100)
    np.testing.assert_allclose(m[:, -1], f.width_r[:, -1] / 100)


def test_chunked_features_equal_whole_array(tmp_path) -> None:
    rng = np.random.default_rng(1)
    n = 37
    e = rng.uniform(1e3, 1e5, n)
    s = (rng.exponential(1.0, (n, TINY.n_voxels)) * (rng.random((n, TINY.n_voxels)) < 0.4)).astype(np.float32)
    path = write_showers(tmp_path / "s.h5", e, s, "tiny")
    whole = compute_features(e, s, TINY)
    chunked = features_from_file(path, "tiny", chunk_rows=5)
    for name in HighLevelFeatures._ARRAYS:
        np.testing.assert_allclose(getattr(chunked, name), getattr(whole, name), rtol=1e-12, atol=0)
    part = HighLevelFeatures.concatenate([whole.subset(slice(0, 10)), whole.subset(slice(10, None))])
    np.testing.assert_array_equal(part.matrix(), whole.matrix())


def test_sparsity_counts_voxels_strictly_above_threshold() -> None:
    """Regression: a voxel exactly at the threshold survives the cut but is not counted as filled.

    Layer 0 of ``tiny`` has 40 voxels: one at 2 x threshold, one exactly at threshold, one at half the
    threshold (cut to 0): only the first is above threshold, so sparsity = 1 - 1/40; E_layer keeps the
    voxel at threshold (the cut is ``< threshold``), so E_layer = 3 x threshold.
    """
    thr = TINY.threshold_mev
    s = np.zeros((1, TINY.n_voxels))
    s[0, 0], s[0, 1], s[0, 2] = 2 * thr, thr, 0.5 * thr
    f = compute_features(np.array([1000.0]), s, TINY)
    assert f.sparsity[0, 0] == pytest.approx(1 - 1 / 40)
    assert f.e_layer[0, 0] == pytest.approx(3 * thr)
    assert f.sparsity[0, 1] == pytest.approx(1.0)


def test_sparsity_threshold_compared_in_float32_like_the_cut() -> None:
    """A float32 voxel equal to float32(threshold) is kept by the cut and not counted, consistently."""
    thr32 = np.float32(TINY.threshold_mev)
    s = np.zeros((1, TINY.n_voxels), dtype=np.float32)
    s[0, 0], s[0, 1] = thr32, np.float32(1.0)
    f = compute_features(np.array([1000.0]), s, TINY)
    assert f.e_layer[0, 0] == pytest.approx(float(thr32) + 1.0)
    assert f.sparsity[0, 0] == pytest.approx(1 - 1 / 40)
