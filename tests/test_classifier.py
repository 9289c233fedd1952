"""The real-vs-generated classifier: split, inputs, limiting cases, memmap streaming and the 3D ResNet."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from calovq.evaluate.classifier import (
    ClassifierResult,
    DNNClassifier,
    ResNet3dClassifier,
    high_level_input,
    low_level_input,
    split_sizes,
    train_classifier,
)
from calovq.exceptions import DataFormatError

sklearn_metrics = pytest.importorskip("sklearn.metrics")

# Small and fast on CPU: narrow network, small batches, a larger learning rate than the challenge's.
FAST = {"epochs": 4, "batch_size": 100, "lr": 1e-3, "width": 32}


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (121_000, (80_000, 20_000, 21_000)),
        (120_800, (80_000, 20_000, 20_800)),
        (100_000, (60_000, 20_000, 20_000)),
        (1000, (600, 200, 200)),
        (999, (599, 199, 201)),
        (20_000, (12_000, 4000, 4000)),
    ],
)
def test_split_sizes(n: int, expected: tuple[int, int, int]) -> None:
    assert split_sizes(n) == expected
    assert sum(split_sizes(n)) == n


def test_low_and_high_level_inputs() -> None:
    energies = np.array([[100.0], [1000.0]])
    showers = np.array([[10.0, 0.0, 90.0], [0.0, 500.0, 0.0]])
    low = low_level_input(energies, showers)
    np.testing.assert_allclose(low, [[2.0, 0.1, 0.0, 0.9], [3.0, 0.0, 0.5, 0.0]], rtol=1e-6)
    assert low.dtype == np.float32
    high = high_level_input(energies.ravel(), np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_allclose(high, [[2.0, 1.0, 2.0], [3.0, 3.0, 4.0]], rtol=1e-6)
    with pytest.raises(DataFormatError, match="positive"):
        low_level_input([0.0, 1.0], showers)
    with pytest.raises(DataFormatError, match="incident energies"):
        high_level_input([1.0], np.ones((2, 2)))


def test_dnn_has_the_challenge_architecture() -> None:
    net = DNNClassifier(10)
    linear = [m for m in net.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [(10, 2048), (2048, 2048), (2048, 2048), (2048, 1)]
    assert sum(isinstance(m, torch.nn.LeakyReLU) for m in net.modules()) == 3
    assert not any(isinstance(m, torch.nn.Dropout) for m in net.modules())


def test_identical_distributions_are_not_separated() -> None:
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(600, 5)).astype(np.float32)
    gen = rng.normal(size=(600, 5)).astype(np.float32)
    res = train_classifier(ref, gen, seed=1, **FAST)
    assert res.auc_mean < 0.65
    assert res.jsd_mean < 0.2


def test_separated_distributions_are_found_and_auc_matches_sklearn() -> None:
    rng = np.random.default_rng(1)
    ref = rng.normal(size=(500, 5)).astype(np.float32)
    gen = (rng.normal(size=(500, 5)) + 1.5).astype(np.float32)
    res = train_classifier(ref, gen, seed=2, **FAST)
    assert res.auc_mean > 0.95
    assert res.jsd_mean > 0.5
    assert (res.n_train, res.n_test, res.n_val) == split_sizes(500)
    assert len(res.val_labels) == 2 * res.n_val
    assert res.val_labels.sum() == res.n_val  # reference (label 1) and generated in equal numbers
    assert res.auc_mean == pytest.approx(sklearn_metrics.roc_auc_score(res.val_labels, res.val_probabilities))
    p = np.clip(res.val_probabilities, 1e-6, 1 - 1e-6)
    bce = -np.mean(res.val_labels * np.log(p) + (1 - res.val_labels) * np.log(1 - p))
    assert res.jsd_mean == pytest.approx((np.log(2) - bce) / np.log(2))
    assert 1 <= res.best_epochs[0] <= FAST["epochs"]


def test_memmap_input_gives_identical_results(tmp_path) -> None:
    rng = np.random.default_rng(3)
    ref = rng.normal(size=(300, 7)).astype(np.float32)
    gen = (rng.normal(size=(320, 7)) + 0.4).astype(np.float32)
    paths = {"ref": tmp_path / "ref.dat", "gen": tmp_path / "gen.dat"}
    maps = {}
    for key, arr in (("ref", ref), ("gen", gen)):
        mm = np.memmap(paths[key], dtype=np.float32, mode="w+", shape=arr.shape)
        mm[:] = arr
        mm.flush()
        maps[key] = np.memmap(paths[key], dtype=np.float32, mode="r", shape=arr.shape)
    kwargs = {**FAST, "epochs": 2, "seed": 5}
    in_memory = train_classifier(ref, gen, **kwargs)
    streamed = train_classifier(maps["ref"], maps["gen"], **kwargs)
    assert streamed.aucs == in_memory.aucs
    assert streamed.jsds == in_memory.jsds
    np.testing.assert_array_equal(streamed.val_probabilities, in_memory.val_probabilities)
    # The longer sample is cut to the shorter one before splitting.
    assert (in_memory.n_train, in_memory.n_test, in_memory.n_val) == split_sizes(300)


def test_repeats_report_mean_and_spread() -> None:
    rng = np.random.default_rng(4)
    ref = rng.normal(size=(200, 3)).astype(np.float32)
    gen = (rng.normal(size=(200, 3)) + 0.7).astype(np.float32)
    res = train_classifier(ref, gen, repeats=3, seed=10, **{**FAST, "epochs": 2})
    assert isinstance(res, ClassifierResult)
    assert res.seeds == [10, 11, 12]
    assert len(res.aucs) == len(res.jsds) == len(res.best_epochs) == 3
    assert res.auc_mean == pytest.approx(np.mean(res.aucs))
    assert res.auc_std == pytest.approx(np.std(res.aucs, ddof=1))
    assert len(set(res.aucs)) > 1  # different splits and initialisations
    summary = res.to_dict()
    assert summary["split_per_class"] == {"train": 120, "test": 40, "val": 40}
    assert summary["repeats"] == 3
    assert "val_probabilities" not in summary


def test_custom_split_and_bad_arguments() -> None:
    x = np.random.default_rng(6).normal(size=(100, 2)).astype(np.float32)
    res = train_classifier(x, x + 1, split=(50, 20, 10), **{**FAST, "epochs": 1})
    assert (res.n_train, res.n_test, res.n_val) == (50, 20, 10)
    assert len(res.val_labels) == 20
    with pytest.raises(ValueError, match="split"):
        train_classifier(x, x, split=(80, 20, 10), **FAST)
    with pytest.raises(ValueError, match="unknown classifier model"):
        train_classifier(x, x, model="bdt", **FAST)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="grid_shape"):
        train_classifier(x, x, model="cnn", grid_shape=(2, 2, 2), **FAST)
    with pytest.raises(DataFormatError, match="same width"):
        train_classifier(x, x[:, :1], **FAST)


def test_resnet_reshapes_voxels_in_layer_alpha_r_order() -> None:
    net = ResNet3dClassifier((45, 16, 9), width=4).eval()
    x = torch.randn(3, 1 + 45 * 16 * 9)
    grid = net.to_grid(x)
    assert grid.shape == (3, 1, 45, 16, 9)
    layer, alpha, r = 7, 11, 4
    assert grid[2, 0, layer, alpha, r] == x[2, 1 + (layer * 16 + alpha) * 9 + r]
    assert net.image_features(grid).shape == (3, 4 * 4)
    assert net(x).shape == (3, 1)
    with pytest.raises(ValueError, match="expected inputs"):
        net(torch.randn(3, 100))


def test_resnet_default_is_the_challenge_resnet18() -> None:
    net = ResNet3dClassifier((45, 50, 18))
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv3d)]
    assert convs[0].kernel_size == (7, 7, 7)
    assert convs[0].stride == (2, 2, 2)
    assert sum(m.kernel_size == (3, 3, 3) for m in convs) == 16  # 8 basic blocks x 2
    assert [s[-1].conv2.out_channels for s in net.stages] == [32, 64, 64, 128]
    assert net.head.in_features == 128 + 1


def test_cnn_trains_on_a_tiny_sample() -> None:
    # Too few steps for the batch-norm running statistics to settle, so only the plumbing is checked
    # here: full dataset-2 grid, training, best-epoch selection, calibration and scoring.
    rng = np.random.default_rng(7)
    n, grid = 60, (45, 16, 9)
    energies = 10 ** rng.uniform(3, 4, size=(2 * n, 1))
    showers = rng.exponential(size=(2 * n, int(np.prod(grid)))) * energies / 6480
    x = low_level_input(energies, showers)
    res = train_classifier(
        x[:n], x[n:], model="cnn", grid_shape=grid, epochs=2, batch_size=20, lr=1e-3, width=4, seed=0
    )
    assert res.model == "cnn"
    assert (res.n_train, res.n_test, res.n_val) == (36, 12, 12)
    assert res.best_epochs[0] in (1, 2)
    assert len(res.val_probabilities) == 24
    assert np.all((res.val_probabilities >= 1e-6) & (res.val_probabilities <= 1 - 1e-6))
    assert res.auc_mean == pytest.approx(sklearn_metrics.roc_auc_score(res.val_labels, res.val_probabilities))


def test_result_records_training_settings() -> None:
    """metrics.json must carry every setting behind the AUC: batch size, learning rate, width, labels."""
    from calovq.evaluate.classifier import train_classifier

    rng = np.random.default_rng(3)
    x_ref = rng.normal(size=(50, 3)).astype(np.float32)
    x_gen = rng.normal(size=(50, 3)).astype(np.float32) + 1.0
    out = train_classifier(x_ref, x_gen, epochs=1, batch_size=20, lr=1e-3, width=8).to_dict()
    assert (out["batch_size"], out["lr"], out["width"]) == (20, 1e-3, 8)
    assert out["labels"] == {"generated": 0, "reference": 1}
    assert out["split_per_class"] == {"train": 30, "test": 10, "val": 10}
