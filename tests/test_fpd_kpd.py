"""FPD and KPD against closed forms, the reference conventions (seeds, order, normalisation) and caps."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest

from calovq.evaluate.fpd_kpd import (
    fpd,
    frechet_distance,
    frechet_distance_from_moments,
    kpd,
    mmd2_poly_unbiased,
    normalise_by_reference,
)


def _sqrtm_psd(a: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(a)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def _fd_closed_form(mu1, s1, mu2, s2) -> float:
    """Independent route: Tr sqrt(S1 S2) = Tr sqrt(S1^1/2 S2 S1^1/2) via symmetric eigendecompositions."""
    r1 = _sqrtm_psd(s1)
    cross = _sqrtm_psd(r1 @ s2 @ r1)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(cross))


def _random_spd(rng: np.random.Generator, d: int) -> np.ndarray:
    a = rng.normal(size=(d, d))
    return a @ a.T + 0.1 * np.eye(d)


def test_frechet_of_identical_samples_is_zero() -> None:
    x = np.random.default_rng(0).normal(size=(2000, 6))
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-9)


def test_frechet_from_moments_matches_closed_form() -> None:
    rng = np.random.default_rng(1)
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    s1, s2 = _random_spd(rng, 5), _random_spd(rng, 5)
    assert frechet_distance_from_moments(mu1, s1, mu2, s2) == pytest.approx(_fd_closed_form(mu1, s1, mu2, s2), rel=1e-8)
    # Diagonal covariances: |dmu|^2 + sum (sqrt(a) - sqrt(b))^2.
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 9.0])
    expected = 1.0 + (1 - 2) ** 2 + (2 - 1) ** 2
    got = frechet_distance_from_moments([0, 0, 0], np.diag(a), [1, 0, 0], np.diag(b))
    assert got == pytest.approx(expected, rel=1e-10)


def test_frechet_of_gaussian_samples_approaches_population_value() -> None:
    rng = np.random.default_rng(2)
    mu1, mu2 = np.array([0.0, 1.0, -1.0]), np.array([0.5, 1.0, 0.0])
    s1, s2 = _random_spd(rng, 3), _random_spd(rng, 3)
    x = rng.multivariate_normal(mu1, s1, size=200_000)
    y = rng.multivariate_normal(mu2, s2, size=200_000)
    expected = _fd_closed_form(mu1, s1, mu2, s2)
    assert frechet_distance(x, y) == pytest.approx(expected, rel=0.02)


def test_frechet_handles_singular_covariances_without_warnings() -> None:
    rng = np.random.default_rng(3)
    x = np.zeros((500, 3))
    x[:, 0] = rng.normal(size=500)  # two constant features: rank-1 covariance
    y = x.copy()
    y[:, 0] += 1.0
    assert np.isfinite(frechet_distance(x, x))
    assert frechet_distance(x, y) == pytest.approx(1.0, abs=1e-3)


def test_normalise_by_reference_uses_reference_maximum() -> None:
    ref = np.array([[1.0, -4.0, 0.0], [-2.0, 2.0, 0.0]])
    gen = np.array([[4.0, 4.0, 3.0]])
    r, g = normalise_by_reference(ref, gen)
    np.testing.assert_allclose(r, [[0.5, -1.0, 0.0], [-1.0, 0.5, 0.0]])
    np.testing.assert_allclose(g, [[2.0, 1.0, 3.0]])  # zero-max feature left unscaled
    r2, g2 = normalise_by_reference(gen, ref)
    np.testing.assert_allclose(r2, [[1.0, 1.0, 1.0]])
    assert not np.allclose(g2, r)


def test_fpd_extrapolation_recovers_fd_inf() -> None:
    rng = np.random.default_rng(4)
    mu = np.array([0.3, -0.2, 0.0])
    x = rng.normal(size=(50_000, 3))
    y = rng.normal(size=(50_000, 3)) + mu
    res = fpd(x, y, min_samples=500, max_samples=5000, num_batches=100, normalise=False)
    # Batches are drawn from the two finite samples, whose own FD is the N -> infinity limit; finite
    # batches inflate FD by roughly (2 d + d (d + 1) / 2) / N, which the fit must remove.
    fd_inf = frechet_distance(x, y)
    assert res["fd_per_batch_size"][0] > fd_inf + 0.01
    assert res["value"] == pytest.approx(fd_inf, abs=max(4 * res["error"], 0.005))
    assert res["value"] == pytest.approx(mu @ mu, abs=0.015)
    assert 5.0 < res["slope"] < 20.0
    assert res["value_x1e3"] == pytest.approx(1e3 * res["value"])
    assert res["capped"] is False
    assert res["batch_sizes"][0] == 500
    assert res["batch_sizes"][-1] in (4999, 5000)
    inverse = 1.0 / np.array(res["batch_sizes"], dtype=float)
    np.testing.assert_allclose(np.diff(inverse), np.diff(inverse)[0], rtol=0.03)  # even in 1/N (int sizes)


def test_fpd_of_identical_distributions_is_near_zero_and_reproducible() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(20_000, 4))
    y = rng.normal(size=(20_000, 4))
    res = fpd(x, y, min_samples=1000, max_samples=4000, num_batches=10)
    assert 0.0 <= res["value"] < 2e-3
    again = fpd(x, y, min_samples=1000, max_samples=4000, num_batches=10)
    assert again["value"] == res["value"]
    assert again["fd_per_batch_size"] == res["fd_per_batch_size"]


def test_fpd_argument_order_sets_the_normalisation() -> None:
    rng = np.random.default_rng(6)
    ref = rng.normal(size=(3000, 2))
    gen = 2.0 * rng.normal(size=(3000, 2)) + 0.5
    kwargs = {"min_samples": 500, "max_samples": 1500, "num_batches": 5}
    scale = np.abs(ref).max(axis=0)
    direct = fpd(ref / scale, gen / scale, normalise=False, **kwargs)
    assert fpd(ref, gen, **kwargs)["value"] == pytest.approx(direct["value"], rel=1e-10)
    assert fpd(gen, ref, **kwargs)["value"] != pytest.approx(direct["value"], rel=0.05)


def test_fpd_caps_sizes_to_available_events() -> None:
    rng = np.random.default_rng(7)
    res = fpd(rng.normal(size=(400, 2)), rng.normal(size=(300, 2)), num_batches=3)
    assert res["capped"] is True
    assert res["max_samples"] == 300
    assert res["min_samples"] == 300 * 10_000 // 50_000
    assert max(res["batch_sizes"]) == 300
    assert min(res["batch_sizes"]) == res["min_samples"]
    assert res["n_reference"] == 400
    assert res["n_generated"] == 300


def _mmd_dense(x: np.ndarray, y: np.ndarray) -> float:
    d = x.shape[1]
    kxx = (x @ x.T / d + 1) ** 4
    kyy = (y @ y.T / d + 1) ** 4
    kxy = (x @ y.T / d + 1) ** 4
    m, n = len(x), len(y)
    return float(
        (kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1)) - 2 * kxy.mean()
    )


@pytest.mark.parametrize("block_size", [1, 7, 64, 10_000])
def test_blocked_mmd_matches_dense(block_size: int) -> None:
    rng = np.random.default_rng(8)
    x = rng.normal(size=(150, 4))
    y = rng.normal(size=(120, 4)) * 1.2 + 0.1
    assert mmd2_poly_unbiased(x, y, block_size=block_size) == pytest.approx(_mmd_dense(x, y), rel=1e-10)


def _power_sums(v: np.ndarray) -> list[float]:
    return [float(np.sum(v**p)) for p in range(9)]


def test_mmd_matches_moment_expansion_in_one_dimension() -> None:
    # In 1-d, (xy + 1)^4 = sum_p C(4,p) x^p y^p, so every kernel sum reduces to power sums S_p.
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=3000), rng.normal(0.4, 0.8, size=2500)
    sx, sy = _power_sums(x), _power_sums(y)
    m, n = len(x), len(y)
    xx = sum(comb(4, p) * (sx[p] ** 2 - sx[2 * p]) for p in range(5)) / (m * (m - 1))
    yy = sum(comb(4, p) * (sy[p] ** 2 - sy[2 * p]) for p in range(5)) / (n * (n - 1))
    xy = sum(comb(4, p) * sx[p] * sy[p] for p in range(5)) / (m * n)
    assert mmd2_poly_unbiased(x[:, None], y[:, None]) == pytest.approx(xx + yy - 2 * xy, rel=1e-9)


def _gaussian_moments(mu: float, s: float) -> list[float]:
    return [1.0, mu, mu**2 + s**2, mu**3 + 3 * mu * s**2, mu**4 + 6 * mu**2 * s**2 + 3 * s**4]


def test_kpd_of_shifted_gaussians_matches_population_value() -> None:
    # Population MMD^2 of the 1-d kernel (xy + 1)^4: sum_p C(4,p) (E x^p - E y^p)^2.
    a, b = _gaussian_moments(0.0, 1.0), _gaussian_moments(0.5, 1.0)
    expected = sum(comb(4, p) * (a[p] - b[p]) ** 2 for p in range(5))
    rng = np.random.default_rng(10)
    x, y = rng.normal(0.0, 1.0, size=(40_000, 1)), rng.normal(0.5, 1.0, size=(40_000, 1))
    res = kpd(x, y, batch_size=4000, normalise=False)
    assert res["value"] == pytest.approx(expected, rel=0.15)
    assert res["value_x1e3"] == pytest.approx(1e3 * res["value"])


def test_kpd_of_identical_samples_is_near_zero() -> None:
    x = np.random.default_rng(11).normal(size=(5000, 3))
    res = kpd(x, x, batch_size=2000)
    assert abs(res["value"]) < 3 * res["error"] + 1e-4
    shifted = kpd(x, x + 0.3, batch_size=2000)
    assert shifted["value"] > 10 * max(abs(res["value"]), res["error"])


def test_kpd_batches_follow_the_reference_seeding() -> None:
    rng = np.random.default_rng(12)
    ref, gen = rng.normal(size=(800, 3)), rng.normal(size=(700, 3)) + 0.2
    res = kpd(ref, gen, batch_size=300, num_batches=5, seed=42)
    r, g = normalise_by_reference(ref, gen)
    state = np.random.get_state()
    try:
        for i in (0, 3):
            # jetnet's draw: the global legacy generator reseeded per batch.
            np.random.seed(42 + 1000 * i)
            ia = np.random.choice(len(r), size=300)
            ib = np.random.choice(len(g), size=300)
            assert res["batch_values"][i] == pytest.approx(_mmd_dense(r[ia], g[ib]), rel=1e-9)
    finally:
        np.random.set_state(state)
    assert res["rng"].startswith("numpy.random.RandomState")
    lo, hi = np.percentile(res["batch_values"], [16.275, 83.725])
    assert res["error"] == pytest.approx((hi - lo) / 2)
    assert res["value"] == pytest.approx(np.median(res["batch_values"]))


def test_kpd_caps_batch_size() -> None:
    rng = np.random.default_rng(13)
    res = kpd(rng.normal(size=(200, 2)), rng.normal(size=(150, 2)), num_batches=3)
    assert res["capped"] is True
    assert res["batch_size"] == 150
    full = kpd(rng.normal(size=(200, 2)), rng.normal(size=(150, 2)), batch_size=100, num_batches=3)
    assert full["capped"] is False


def test_mismatched_features_raise() -> None:
    with pytest.raises(ValueError, match="features"):
        kpd(np.zeros((10, 2)), np.zeros((10, 3)))
    with pytest.raises(ValueError, match="NaN"):
        fpd(np.full((10, 2), np.nan), np.zeros((10, 2)))


def test_fpd_draws_the_jetnet_batches() -> None:
    """Regression: FPD batches come from the legacy stream jetnet uses (``np.random.seed(42)``).

    Hand-rolled jetnet loop: one global reseed, then per batch size and batch a reference draw and a
    generated draw; the Frechet distances are averaged per size and fitted as FD_inf + b / N.
    """
    rng = np.random.default_rng(21)
    ref, gen = rng.normal(size=(900, 3)), rng.normal(size=(800, 3)) * 1.1 + 0.1
    res = fpd(ref, gen, min_samples=100, max_samples=500, num_batches=3, num_points=4, seed=42)
    r, g = normalise_by_reference(ref, gen)
    sizes = (1 / np.linspace(1.0 / 100, 1.0 / 500, 4)).astype("int32")
    assert res["batch_sizes"] == [int(n) for n in sizes] == [100, 136, 214, 500]
    state = np.random.get_state()
    try:
        np.random.seed(42)
        expected = []
        for n in sizes:
            vals = []
            for _ in range(3):
                a = r[np.random.choice(len(r), size=n)]
                b = g[np.random.choice(len(g), size=n)]
                vals.append(frechet_distance(a, b))
            expected.append(np.mean(vals))
    finally:
        np.random.set_state(state)
    assert res["fd_per_batch_size"] == pytest.approx(expected, rel=1e-9)
    assert res["rng"].startswith("numpy.random.RandomState")
    assert res["n_features"] == 3
    assert res["normalised_by_reference_max"] is True
