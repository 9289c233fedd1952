"""Blocked PRDC against the authors' ``prdc`` package, block-size invariance and limiting cases."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

from calovq.evaluate.prdc import compute_prdc, knn_radii, prdc_input

prdc = pytest.importorskip("prdc")

KEYS = ("precision", "recall", "density", "coverage")


def _oracle(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    with contextlib.redirect_stdout(io.StringIO()):  # the package prints the sample sizes
        out = prdc.compute_prdc(real_features=real, fake_features=fake, nearest_k=k)
    return {key: float(out[key]) for key in KEYS}


@pytest.mark.parametrize(("dim", "shift", "scale"), [(2, 0.0, 1.0), (8, 0.4, 1.0), (30, 0.2, 1.3)])
def test_matches_reference_package(dim: int, shift: float, scale: float) -> None:
    rng = np.random.default_rng(dim)
    real = rng.normal(size=(300, dim))
    fake = rng.normal(size=(250, dim)) * scale + shift
    expected = _oracle(real, fake, 5)
    got = compute_prdc(real, fake, nearest_k=5, block_size=64)
    for key in KEYS:
        assert got[key] == pytest.approx(expected[key], abs=1e-6), key
    assert got["n_real"] == 300
    assert got["n_fake"] == 250
    assert 0.0 < got["coverage"] < 1.0  # non-trivial cases, not saturated ones


def test_matches_reference_package_with_other_k_and_float32() -> None:
    rng = np.random.default_rng(1)
    real = rng.normal(size=(200, 5)).astype(np.float32)
    fake = (rng.normal(size=(220, 5)) + 0.3).astype(np.float32)
    expected = _oracle(real, fake, 3)
    got = compute_prdc(real, fake, nearest_k=3, block_size=50)
    for key in KEYS:
        assert got[key] == pytest.approx(expected[key], abs=1e-6), key


def test_results_do_not_depend_on_block_size() -> None:
    rng = np.random.default_rng(2)
    real, fake = rng.normal(size=(157, 6)), rng.normal(size=(143, 6)) + 0.25
    results = [compute_prdc(real, fake, block_size=b) for b in (16, 37, 156, 10_000, None)]
    for other in results[1:]:
        assert other == results[0]


@pytest.mark.parametrize("block_size", [5, 13, None])  # 5 < k + 1: blocks narrower than the kept list
def test_knn_radii_match_brute_force(block_size: int | None) -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(120, 4))
    dist = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    expected = np.sort(dist, axis=1)[:, 5]  # column 0 is the point itself
    np.testing.assert_allclose(knn_radii(x, 5, block_size=block_size), expected, rtol=1e-10)


def test_identical_sets_are_perfect() -> None:
    x = np.random.default_rng(4).normal(size=(200, 3))
    res = compute_prdc(x, x.copy())
    assert res["precision"] == 1.0
    assert res["recall"] == 1.0
    assert res["coverage"] == 1.0
    # Each ball holds its centre and k - 1 other points strictly inside (the k-th sits on the edge).
    assert res["density"] == pytest.approx(1.0)


def test_disjoint_sets_score_zero() -> None:
    rng = np.random.default_rng(5)
    real = rng.normal(size=(100, 3))
    fake = rng.normal(size=(90, 3)) + 100.0
    res = compute_prdc(real, fake)
    assert res == {**res, "precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_prdc_input_takes_log10_with_zeros_replaced() -> None:
    showers = np.array([[0.0, 1.0, 100.0], [10.0, 0.0, 0.5]])
    out = prdc_input(showers)
    np.testing.assert_allclose(out, np.log10([[0.1, 1.0, 100.0], [10.0, 0.1, 0.5]]), rtol=1e-6)
    assert out.dtype == np.float32
    assert showers[0, 0] == 0.0  # input untouched
    with pytest.raises(ValueError, match="non-negative"):
        prdc_input(-showers)


def test_invalid_arguments_raise() -> None:
    x = np.zeros((10, 2))
    with pytest.raises(ValueError, match="nearest_k"):
        knn_radii(x, nearest_k=10)
    with pytest.raises(ValueError, match="features"):
        compute_prdc(x, np.zeros((10, 3)))
    with pytest.raises(ValueError, match="block_size"):
        compute_prdc(x, x, block_size=0)


def test_memmap_input_matches_in_memory(tmp_path) -> None:
    rng = np.random.default_rng(6)
    real = rng.normal(size=(130, 4)).astype(np.float32)
    fake = (rng.normal(size=(110, 4)) + 0.2).astype(np.float32)
    maps = []
    for name, arr in (("real", real), ("fake", fake)):
        mm = np.memmap(tmp_path / f"{name}.dat", dtype=np.float32, mode="w+", shape=arr.shape)
        mm[:] = arr
        mm.flush()
        maps.append(np.memmap(tmp_path / f"{name}.dat", dtype=np.float32, mode="r", shape=arr.shape))
    assert compute_prdc(*maps, block_size=32) == compute_prdc(real, fake, block_size=32)
