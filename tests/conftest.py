"""Shared fixtures: the ../shared folder (skip cleanly where absent) and small synthetic shower files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from calovq.data import write_showers
from calovq.geometry import get_geometry

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture
def shared_calochallenge() -> Path:
    """../shared/calochallenge with the official binning XML files; skipped where absent."""
    path = SHARED / "calochallenge"
    if not path.is_dir():
        pytest.skip(f"{path} not present (official CaloChallenge files are not committed)")
    return path


def synthetic_showers(geometry_name: str, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random sparse non-negative showers (not physical): for I/O tests only."""
    geo = get_geometry(geometry_name)
    rng = np.random.default_rng(seed)
    energies = np.exp(rng.uniform(np.log(1e3), np.log(1e6), n))
    showers = rng.exponential(1.0, (n, geo.n_voxels)).astype(np.float32)
    showers[showers < 1.0] = 0.0
    return energies, showers


@pytest.fixture
def tiny_file(tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    """A 50-shower file on the tiny geometry, with its contents."""
    e, s = synthetic_showers("tiny", 50)
    path = write_showers(tmp_path / "tiny.h5", e, s, geometry="tiny")
    return path, e, s
