"""The CaloChallenge real-versus-generated classifier test (AUC and JSD).

A binary classifier is trained to tell reference showers from generated ones; the better it does, the
worse the generator (Krause et al. 2024, CaloChallenge 2022, arXiv:2410.21611; the test goes back to
Krause & Shih, CaloFlow, arXiv:2106.05285). The protocol follows the challenge's evaluation script:

* both samples are cut to the same length; each class is shuffled and split into train/test/validation
  (60/20/20 %, or the official 80k/20k/21k and 80k/20k/20.8k for the full dataset-1 files);
* the network trains with binary cross-entropy on logits, Adam, batch 1000, and the epoch with the best
  *test* accuracy is kept (training stops early at test accuracy 1);
* an isotonic regression fitted on the kept model's test-split probabilities calibrates the
  validation-split probabilities, on which the AUC and ``JSD = (ln 2 - BCE) / ln 2`` are reported.

Generated showers carry label 0 and reference showers label 1, as in the official script.

Inputs may be numpy arrays or ``np.memmap``: only one minibatch is gathered at a time (rows sorted
within the batch for efficient reads), so dataset 3's 16 GB low-level input never has to be loaded.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from calovq import _interrupt
from calovq._optional import require
from calovq.exceptions import DataFormatError

__all__ = [
    "ClassifierResult",
    "DNNClassifier",
    "ResNet3dClassifier",
    "high_level_input",
    "low_level_input",
    "split_sizes",
    "train_classifier",
]

# Per-class (train, test, validation) sizes of the challenge for the full evaluation files.
_OFFICIAL_SPLITS: dict[int, tuple[int, int, int]] = {
    121_000: (80_000, 20_000, 21_000),  # dataset 1, photons
    120_800: (80_000, 20_000, 20_800),  # dataset 1, pions
    100_000: (60_000, 20_000, 20_000),  # datasets 2 and 3
}
_FRACTIONS = (0.6, 0.2, 0.2)
_LN2 = math.log(2.0)


# ---------------------------------------------------------------------------------------------------
# Inputs and split
# ---------------------------------------------------------------------------------------------------


def _energies(energies: npt.ArrayLike, n: int) -> npt.NDArray[np.float64]:
    e = np.asarray(energies, dtype=np.float64).reshape(-1, 1)
    if len(e) != n:
        msg = f"{len(e)} incident energies for {n} showers"
        raise DataFormatError(msg)
    if not np.all(e > 0):
        msg = "incident energies must be positive"
        raise DataFormatError(msg)
    return e


def low_level_input(energies: npt.ArrayLike, showers: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """Low-level classifier input ``[log10 E_inc, voxels / E_inc]``, as the challenge prepares it.

    Args:
        energies: Incident energies in MeV, shape ``(n,)`` or ``(n, 1)``.
        showers: Voxel energies in MeV (thresholded), shape ``(n, n_voxels)``. Pass chunks to build a
            large input piece by piece.

    Returns:
        float32 array of shape ``(n, 1 + n_voxels)``.
    """
    x = np.asarray(showers)
    if x.ndim != 2:
        msg = f"showers must be 2-d (events, voxels), got shape {x.shape}"
        raise DataFormatError(msg)
    e = _energies(energies, len(x))
    out = np.empty((len(x), x.shape[1] + 1), dtype=np.float32)
    out[:, 0] = np.log10(e[:, 0])
    out[:, 1:] = x / e
    return out


def high_level_input(energies: npt.ArrayLike, hlf_matrix: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """High-level classifier input: ``log10 E_inc`` followed by the already assembled feature columns.

    The columns are expected in the challenge's order and scaling: ``log10(E_layer + 1e-8)``,
    ``EC_eta/100``, ``EC_phi/100``, ``width_eta/100``, ``width_phi/100``, ``log10(E_tot + 1e-8)``,
    sparsity, ``EC_r/100``, ``width_r/100`` (see ``calovq.evaluate.features``).

    Args:
        energies: Incident energies in MeV, shape ``(n,)`` or ``(n, 1)``.
        hlf_matrix: High-level features, shape ``(n, n_features)``.

    Returns:
        float32 array of shape ``(n, 1 + n_features)``.
    """
    h = np.asarray(hlf_matrix, dtype=np.float64)
    if h.ndim != 2:
        msg = f"hlf_matrix must be 2-d (events, features), got shape {h.shape}"
        raise DataFormatError(msg)
    e = _energies(energies, len(h))
    return np.concatenate([np.log10(e), h], axis=1).astype(np.float32)


def split_sizes(n_events: int) -> tuple[int, int, int]:
    """Per-class (train, test, validation) sizes for ``n_events`` events in each class.

    The full challenge files get the official sizes (121,000 -> 80k/20k/21k; 120,800 -> 80k/20k/20.8k;
    100,000 -> 60k/20k/20k). Any other size is split 60/20/20 % with the train and test sizes rounded
    down and the remainder going to validation, as the official ``ttv_split`` does.

    Args:
        n_events: Events per class.

    Returns:
        ``(n_train, n_test, n_val)``.
    """
    if n_events in _OFFICIAL_SPLITS:
        return _OFFICIAL_SPLITS[n_events]
    n_train = int(n_events * _FRACTIONS[0])
    n_test = int(n_events * _FRACTIONS[1])
    return n_train, n_test, n_events - n_train - n_test


# ---------------------------------------------------------------------------------------------------
# Networks
# ---------------------------------------------------------------------------------------------------


class DNNClassifier(nn.Module):
    """Fully connected classifier of the challenge: ``d -> w -> w -> w -> 1`` with LeakyReLU, no dropout.

    Args:
        input_dim: Input features ``d``.
        width: Hidden units per layer (2048 in the challenge).
        n_hidden: Hidden-to-hidden layers after the input layer (2 in the challenge).
    """

    def __init__(self, input_dim: int, width: int = 2048, n_hidden: int = 2) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Linear(input_dim, width), nn.LeakyReLU()]
        for _ in range(n_hidden):
            layers += [nn.Linear(width, width), nn.LeakyReLU()]
        layers.append(nn.Linear(width, 1))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of shape ``(B, 1)`` for inputs of shape ``(B, d)``."""
        return self.layers(x)


class _BasicBlock3d(nn.Module):
    """Two 3x3x3 convolutions with batch norm and an identity or 1x1x1-projection shortcut."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv3d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm3d(c_out)
        self.conv2 = nn.Conv3d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm3d(c_out)
        self.act = nn.ReLU(inplace=True)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv3d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm3d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.act(y + self.shortcut(x))


class ResNet3dClassifier(nn.Module):
    """3D ResNet-18 of the challenge ("cls-resnet") for datasets 2 and 3.

    The input row is the low-level vector ``[log10 E_inc, voxels / E_inc]``. The voxels are reshaped to
    a one-channel ``(layers, alpha, r)`` image and go through a stride-2 7x7x7 stem, a stride-2 max
    pool and four stages of two basic blocks with ``(w, 2w, 2w, 4w)`` channels (``w = 32`` in the
    challenge; the second to fourth stages halve the resolution). The pooled image features are joined
    with the batch-normalised first column and a linear layer gives the logit.

    Args:
        grid_shape: Image shape ``(layers, alpha, r)``: ``(45, 16, 9)`` for dataset 2, ``(45, 50, 18)``
            for dataset 3.
        width: Channels ``w`` of the first stage (32 in the challenge; smaller is faster on CPU).
        blocks: Basic blocks per stage (``(2, 2, 2, 2)`` makes the ResNet-18).
    """

    def __init__(self, grid_shape: Sequence[int], width: int = 32, blocks: Sequence[int] = (2, 2, 2, 2)) -> None:
        super().__init__()
        if len(grid_shape) != 3 or any(s < 1 for s in grid_shape):
            msg = f"grid_shape must be three positive sizes (layers, alpha, r), got {tuple(grid_shape)}"
            raise ValueError(msg)
        self.grid_shape = tuple(int(s) for s in grid_shape)
        channels = (width, 2 * width, 2 * width, 4 * width)
        self.stem = nn.Sequential(
            nn.Conv3d(1, width, 7, stride=2, padding=3, bias=False),
            nn.BatchNorm3d(width),
            nn.ReLU(inplace=True),
            nn.MaxPool3d(3, stride=2, padding=1),
        )
        stages: list[nn.Module] = []
        c_in = width
        for i, (c_out, n_blocks) in enumerate(zip(channels, blocks, strict=True)):
            stride = 1 if i == 0 else 2
            stage = [_BasicBlock3d(c_in, c_out, stride)]
            stage += [_BasicBlock3d(c_out, c_out, 1) for _ in range(n_blocks - 1)]
            stages.append(nn.Sequential(*stage))
            c_in = c_out
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.energy_norm = nn.BatchNorm1d(1)
        self.head = nn.Linear(c_in + 1, 1)
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def to_grid(self, x: torch.Tensor) -> torch.Tensor:
        """Voxel part of flat inputs ``(B, 1 + V)`` as images ``(B, 1, layers, alpha, r)``."""
        return x[:, 1:].reshape((-1, 1, *self.grid_shape))

    def image_features(self, images: torch.Tensor) -> torch.Tensor:
        """Pooled features ``(B, 4w)`` of images ``(B, 1, layers, alpha, r)``."""
        return self.pool(self.stages(self.stem(images))).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, 1)`` for flat low-level inputs ``(B, 1 + layers * alpha * r)``."""
        n_vox = math.prod(self.grid_shape)
        if x.ndim != 2 or x.shape[1] != n_vox + 1:
            msg = f"expected inputs of shape (B, {n_vox + 1}) for grid {self.grid_shape}, got {tuple(x.shape)}"
            raise ValueError(msg)
        feats = self.image_features(self.to_grid(x))
        return self.head(torch.cat([feats, self.energy_norm(x[:, :1])], dim=1))


# ---------------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------------


@dataclass
class ClassifierResult:
    """Outcome of :func:`train_classifier` (validation split, calibrated probabilities).

    ``auc_std``/``jsd_std`` are sample standard deviations over repeats (0 for one repeat).
    ``val_labels``/``val_probabilities`` hold the last repeat's validation labels (1 = reference) and
    calibrated probabilities, so the AUC can be recomputed.
    """

    model: str
    auc_mean: float
    auc_std: float
    jsd_mean: float
    jsd_std: float
    aucs: list[float]
    jsds: list[float]
    best_epochs: list[int]
    best_test_accuracies: list[float]
    n_train: int
    n_test: int
    n_val: int
    epochs: int
    repeats: int
    seeds: list[int]
    n_reference: int
    n_generated: int
    val_labels: npt.NDArray[np.float64] = field(repr=False, default_factory=lambda: np.empty(0))
    val_probabilities: npt.NDArray[np.float64] = field(repr=False, default_factory=lambda: np.empty(0))
    batch_size: int = 1000
    lr: float = 2e-4
    width: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the per-event arrays)."""
        return {
            "model": self.model,
            "auc_mean": self.auc_mean,
            "auc_std": self.auc_std,
            "jsd_mean": self.jsd_mean,
            "jsd_std": self.jsd_std,
            "aucs": list(self.aucs),
            "jsds": list(self.jsds),
            "best_epochs": list(self.best_epochs),
            "best_test_accuracies": list(self.best_test_accuracies),
            "split_per_class": {"train": self.n_train, "test": self.n_test, "val": self.n_val},
            "epochs": self.epochs,
            "repeats": self.repeats,
            "seeds": list(self.seeds),
            "n_reference": self.n_reference,
            "n_generated": self.n_generated,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "width": self.width,
            "labels": {"generated": 0, "reference": 1},
            "calibration": "isotonic (y in [1e-6, 1 - 1e-6]) fitted on the test split, scored on val",
        }


class _Pool:
    """Reference and generated rows addressed by (label, index); gathers one batch at a time."""

    def __init__(self, x_gen: npt.ArrayLike, x_ref: npt.ArrayLike) -> None:
        self.sources = (x_gen, x_ref)  # indexed by label: 0 = generated, 1 = reference

    def gather(
        self, labels: npt.NDArray[np.int64], index: npt.NDArray[np.int64], device: torch.device
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Rows for the batch, grouped by class and in increasing index order (memmap-friendly)."""
        parts, targets = [], []
        for label, source in enumerate(self.sources):
            rows = np.sort(index[labels == label])
            if rows.size:
                parts.append(np.asarray(source[rows], dtype=np.float32))  # type: ignore[index]
                targets.append(np.full(rows.size, label, dtype=np.float32))
        x = torch.tensor(np.concatenate(parts), dtype=torch.float32, device=device)
        y = torch.tensor(np.concatenate(targets), dtype=torch.float32, device=device)
        return x, y


def _merge(split_gen: np.ndarray, split_ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = np.concatenate([np.zeros(len(split_gen), np.int64), np.ones(len(split_ref), np.int64)])
    return labels, np.concatenate([split_gen, split_ref]).astype(np.int64)


def _predict(
    model: nn.Module,
    pool: _Pool,
    labels: np.ndarray,
    index: np.ndarray,
    batch_size: int,
    device: torch.device,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Sigmoid probabilities and matching labels over a split (order of the gathered batches)."""
    model.eval()
    probs, targets = [], []
    with torch.inference_mode():
        for start in range(0, len(index), batch_size):
            x, y = pool.gather(labels[start : start + batch_size], index[start : start + batch_size], device)
            probs.append(torch.sigmoid(model(x)).reshape(-1).double().cpu().numpy())
            targets.append(y.double().cpu().numpy())
    return np.concatenate(probs), np.concatenate(targets)


def _build_model(model: str, input_dim: int, grid_shape: Sequence[int] | None, width: int | None) -> nn.Module:
    if model == "dnn":
        return DNNClassifier(input_dim, width=2048 if width is None else width)
    if model == "cnn":
        if grid_shape is None:
            msg = "model='cnn' needs grid_shape=(layers, alpha, r)"
            raise ValueError(msg)
        if math.prod(grid_shape) + 1 != input_dim:
            msg = f"grid_shape {tuple(grid_shape)} does not match {input_dim - 1} voxels (+1 energy column)"
            raise ValueError(msg)
        return ResNet3dClassifier(grid_shape, width=32 if width is None else width)
    msg = f"unknown classifier model {model!r}; choose 'dnn' or 'cnn'"
    raise ValueError(msg)


def _one_run(
    pool: _Pool,
    n: int,
    sizes: tuple[int, int, int],
    input_dim: int,
    *,
    model: str,
    grid_shape: Sequence[int] | None,
    width: int | None,
    epochs: int,
    seed: int,
    batch_size: int,
    lr: float,
    device: torch.device,
    progress: bool,
) -> tuple[float, float, int, float, np.ndarray, np.ndarray]:
    isotonic = require("sklearn.isotonic")
    metrics = require("sklearn.metrics")
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    n_train, n_test, n_val = sizes
    cuts = np.cumsum([n_train, n_test, n_val])
    perm_gen, perm_ref = rng.permutation(n), rng.permutation(n)
    train_g, test_g, val_g = np.split(perm_gen[: cuts[-1]], cuts[:-1])
    train_r, test_r, val_r = np.split(perm_ref[: cuts[-1]], cuts[:-1])
    train = _merge(train_g, train_r)
    test = _merge(test_g, test_r)
    val = _merge(val_g, val_r)

    net = _build_model(model, input_dim, grid_shape, width).to(device)
    optimiser = torch.optim.Adam(net.parameters(), lr=lr)
    loss_fn = nn.BCEWithLogitsLoss()
    best_acc, best_epoch, best_state = -math.inf, 0, copy.deepcopy(net.state_dict())
    epoch_iter: Any = range(epochs)
    if progress:
        from tqdm.auto import tqdm

        epoch_iter = tqdm(epoch_iter, desc=f"classifier ({model}, seed {seed})", unit="epoch")
    for epoch in epoch_iter:
        _interrupt.check()
        net.train()
        order = rng.permutation(len(train[1]))
        labels, index = train[0][order], train[1][order]
        for start in range(0, len(index), batch_size):
            x, y = pool.gather(labels[start : start + batch_size], index[start : start + batch_size], device)
            loss = loss_fn(net(x).reshape(-1), y)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
        p_test, y_test = _predict(net, pool, *test, batch_size, device)
        accuracy = float(np.mean((p_test > 0.5) == (y_test > 0.5)))
        if accuracy > best_acc:
            best_acc, best_epoch = accuracy, epoch + 1
            best_state = copy.deepcopy(net.state_dict())
        if accuracy == 1.0:
            break
    net.load_state_dict(best_state)

    # Isotonic calibration fitted on the kept model's test-split probabilities.
    p_test, y_test = _predict(net, pool, *test, batch_size, device)
    calibrator = isotonic.IsotonicRegression(out_of_bounds="clip", y_min=1e-6, y_max=1.0 - 1e-6)
    calibrator.fit(p_test, y_test)
    p_val, y_val = _predict(net, pool, *val, batch_size, device)
    p_cal = np.asarray(calibrator.predict(p_val), dtype=np.float64)
    auc = float(metrics.roc_auc_score(y_val, p_cal))
    p_clip = np.clip(p_cal, 1e-12, 1.0 - 1e-12)
    bce = float(-np.mean(y_val * np.log(p_clip) + (1.0 - y_val) * np.log(1.0 - p_clip)))
    jsd = (_LN2 - bce) / _LN2
    return auc, jsd, best_epoch, best_acc, y_val, p_cal


def train_classifier(
    x_ref: npt.ArrayLike,
    x_gen: npt.ArrayLike,
    model: Literal["dnn", "cnn"] = "dnn",
    grid_shape: Sequence[int] | None = None,
    epochs: int = 50,
    repeats: int = 1,
    seed: int = 0,
    batch_size: int = 1000,
    lr: float = 2e-4,
    device: str | torch.device = "cpu",
    split: tuple[int, int, int] | None = None,
    progress: bool = False,
    width: int | None = None,
) -> ClassifierResult:
    """Train the challenge classifier to separate ``x_ref`` from ``x_gen`` and score it.

    Args:
        x_ref: Reference inputs (label 1), shape ``(n_ref, d)``, e.g. from :func:`low_level_input`;
            a numpy array or ``np.memmap``.
        x_gen: Generated inputs (label 0), shape ``(n_gen, d)``.
        model: ``"dnn"`` (fully connected) or ``"cnn"`` (3D ResNet-18 on low-level inputs).
        grid_shape: ``(layers, alpha, r)`` image shape, required for ``"cnn"``.
        epochs: Maximum training epochs (50 in the challenge).
        repeats: Independent trainings (new split and initialisation each, seeds ``seed + i``); the
            challenge averages 10.
        seed: Base seed for numpy and torch.
        batch_size: Minibatch size (1000 in the challenge).
        lr: Adam learning rate (2e-4 in the challenge).
        device: Torch device.
        split: Per-class ``(train, test, val)`` sizes; default :func:`split_sizes` of the common length.
        progress: Show a progress bar over epochs.
        width: Hidden width of the DNN (default 2048) or first-stage channels of the CNN (default 32).

    Returns:
        A :class:`ClassifierResult`.
    """
    shape_ref, shape_gen = np.shape(x_ref), np.shape(x_gen)
    if len(shape_ref) != 2 or len(shape_gen) != 2 or shape_ref[1] != shape_gen[1]:
        msg = f"x_ref and x_gen must be 2-d with the same width, got {shape_ref} and {shape_gen}"
        raise DataFormatError(msg)
    if epochs < 1 or repeats < 1 or batch_size < 1:
        msg = "epochs, repeats and batch_size must be positive"
        raise ValueError(msg)
    n = int(min(shape_ref[0], shape_gen[0]))  # the longer sample is cut, as in the official split
    sizes = split_sizes(n) if split is None else tuple(int(s) for s in split)
    if len(sizes) != 3 or min(sizes) < 1 or sum(sizes) > n:
        msg = f"split {sizes} must be three positive sizes summing to at most {n} events per class"
        raise ValueError(msg)
    pool = _Pool(x_gen, x_ref)
    dev = torch.device(device)
    runs = [
        _one_run(
            pool,
            n,
            sizes,
            int(shape_ref[1]),
            model=model,
            grid_shape=grid_shape,
            width=width,
            epochs=epochs,
            seed=seed + r,
            batch_size=batch_size,
            lr=lr,
            device=dev,
            progress=progress,
        )
        for r in range(repeats)
    ]
    aucs = [run[0] for run in runs]
    jsds = [run[1] for run in runs]
    ddof = 1 if repeats > 1 else 0
    return ClassifierResult(
        model=model,
        auc_mean=float(np.mean(aucs)),
        auc_std=float(np.std(aucs, ddof=ddof)),
        jsd_mean=float(np.mean(jsds)),
        jsd_std=float(np.std(jsds, ddof=ddof)),
        aucs=aucs,
        jsds=jsds,
        best_epochs=[run[2] for run in runs],
        best_test_accuracies=[run[3] for run in runs],
        n_train=sizes[0],
        n_test=sizes[1],
        n_val=sizes[2],
        epochs=epochs,
        repeats=repeats,
        seeds=[seed + r for r in range(repeats)],
        n_reference=int(shape_ref[0]),
        n_generated=int(shape_gen[0]),
        val_labels=runs[-1][4],
        val_probabilities=runs[-1][5],
        batch_size=batch_size,
        lr=lr,
        width=(2048 if model == "dnn" else 32) if width is None else width,
    )
