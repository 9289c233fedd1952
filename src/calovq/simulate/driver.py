"""Public entry points: simulate in memory, or stream to a CaloChallenge file in parallel chunks.

Determinism: the incident energies come from ``SeedSequence(seed, spawn_key=(0,))`` and block ``i`` of
``chunk_size`` showers from ``SeedSequence(seed, spawn_key=(1, i))``, so a file depends only on
(seed, n, energies, config, chunk_size) and never on the number of worker processes; :func:`simulate`
runs the same blocks in-process and returns the same numbers as :func:`simulate_to_file`.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from calovq.data.calochallenge import ShowerWriter
from calovq.exceptions import ConfigError
from calovq.geometry import Geometry, get_geometry
from calovq.simulate.config import SimConfig
from calovq.simulate.detectors import build_stack
from calovq.simulate.energies import fixed_energies, sample_energies
from calovq.simulate.showers import particle_of, simulate_block

__all__ = ["default_chunk_size", "default_workers", "simulate", "simulate_to_file"]


def default_chunk_size(geometry: Geometry) -> int:
    """Showers per block: about 2M voxels (16 MB of float64 per array), between 16 and 512."""
    return int(max(16, min(512, 2**21 // geometry.n_voxels)))


def default_workers() -> int:
    """Worker processes: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _prepare(
    geometry: str | Geometry,
    n: int,
    seed: int,
    energies: Sequence[float] | np.ndarray | None,
    config: SimConfig | None,
    chunk_size: int | None,
) -> tuple[Geometry, SimConfig, np.ndarray, int]:
    geo = get_geometry(geometry)
    cfg = config if config is not None else SimConfig()
    if not isinstance(cfg, SimConfig):
        msg = f"config must be a SimConfig, got {type(cfg).__name__}"
        raise ConfigError(msg)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        msg = f"number of showers must be a positive integer, got {n!r}"
        raise ConfigError(msg)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        msg = f"seed must be a non-negative integer, got {seed!r}"
        raise ConfigError(msg)
    size = default_chunk_size(geo) if chunk_size is None else chunk_size
    if not isinstance(size, (int, np.integer)) or size < 1:
        msg = f"chunk_size must be a positive integer, got {chunk_size!r}"
        raise ConfigError(msg)
    build_stack(geo, cfg)  # raises GeometryError early for a geometry the simulator cannot read out
    if energies is None:
        e = sample_energies(geo, int(n), np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,))))
    else:
        e = fixed_energies(energies, int(n))
    return geo, cfg, e, int(size)


def _block(geometry: Geometry, energies: np.ndarray, seed: int, index: int, config: SimConfig) -> np.ndarray:
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1, index)))
    return simulate_block(geometry, energies, rng, config)


def simulate(
    geometry: str | Geometry,
    n: int,
    seed: int,
    energies: Sequence[float] | np.ndarray | None = None,
    config: SimConfig | None = None,
    chunk_size: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate ``n`` showers in memory.

    Args:
        geometry: geometry or its name (``"1-photons"``, ``"1-pions"``, ``"2"``, ``"3"``, ``"tiny"``).
        n: number of showers.
        seed: non-negative random seed.
        energies: incident energies in MeV to cycle through; default: the dataset's official spectrum.
        config: simulator settings (:class:`SimConfig`).
        chunk_size: showers per random block (part of what the result depends on).

    Returns:
        (incident energies (n,) float64 MeV, showers (n, n_voxels) float32 MeV).

    Raises:
        GeometryError: unknown geometry or one the simulator cannot read out.
        EnergyRangeError: requested energies outside 0.1 GeV - 10 TeV.
        ConfigError: bad n, seed, chunk size or config.
    """
    geo, cfg, e, size = _prepare(geometry, n, seed, energies, config, chunk_size)
    blocks = [_block(geo, e[lo : lo + size], seed, i, cfg) for i, lo in enumerate(range(0, len(e), size))]
    return e, np.concatenate(blocks, axis=0)


def simulate_to_file(
    path: str | Path,
    geometry: str | Geometry,
    n: int,
    seed: int,
    energies: Sequence[float] | np.ndarray | None = None,
    config: SimConfig | None = None,
    overwrite: bool = False,
    workers: int | None = None,
    chunk_size: int | None = None,
    progress: bool = True,
) -> Path:
    """Simulate ``n`` showers and stream them to a CaloChallenge HDF5 file, in parallel blocks.

    Blocks are computed by ``workers`` processes (spawned; at most two blocks per worker in flight) and
    appended in order through :class:`~calovq.data.ShowerWriter`, so memory stays bounded (a few blocks)
    and the file is written atomically. The seed, the settings and the chunk size are stored as HDF5
    attributes (``seed``, ``sim_*``).

    Args:
        path: output file.
        geometry: geometry or its name.
        n: number of showers.
        seed: non-negative random seed.
        energies: incident energies in MeV to cycle through; default: the dataset's official spectrum.
        config: simulator settings.
        overwrite: replace an existing file.
        workers: worker processes (default: all available CPUs; 1 runs in this process).
        chunk_size: showers per block (default :func:`default_chunk_size`).
        progress: show a tqdm progress bar on stderr.

    Returns:
        The path of the written file.

    Raises:
        OutputExistsError: ``path`` exists and ``overwrite`` is False.
        GeometryError, EnergyRangeError, ConfigError: as for :func:`simulate`.
    """
    geo, cfg, e, size = _prepare(geometry, n, seed, energies, config, chunk_size)
    n_workers = default_workers() if workers is None else workers
    if isinstance(n_workers, bool) or not isinstance(n_workers, (int, np.integer)) or n_workers < 1:
        msg = f"workers must be a positive integer, got {workers!r}"
        raise ConfigError(msg)
    starts = list(range(0, len(e), size))
    n_workers = min(int(n_workers), len(starts))
    attrs = {
        "generator": "calovq.simulate",
        "seed": int(seed),
        "chunk_size": size,
        "particle": particle_of(geo, cfg),
        "detector": build_stack(geo, cfg).name,
        **cfg.to_attrs(),
    }
    from tqdm.auto import tqdm

    with ShowerWriter(path, geo, overwrite=overwrite, attrs=attrs) as writer:
        bar = tqdm(total=len(e), desc=f"simulate {geo.name}", unit="shower", file=sys.stderr, disable=not progress)
        try:
            if n_workers == 1:
                for i, lo in enumerate(starts):
                    writer.append(e[lo : lo + size], _block(geo, e[lo : lo + size], seed, i, cfg))
                    bar.update(min(size, len(e) - lo))
            else:
                _run_parallel(writer, bar, geo, e, starts, size, seed, cfg, n_workers)
        finally:
            bar.close()
    return Path(path)


def _run_parallel(
    writer: ShowerWriter,
    bar: Any,
    geo: Geometry,
    e: np.ndarray,
    starts: list[int],
    size: int,
    seed: int,
    cfg: SimConfig,
    n_workers: int,
) -> None:
    """Blocks on spawned worker processes, at most two per worker in flight, appended in order."""
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx) as pool:
        pending: dict[int, Future[np.ndarray]] = {}
        window = 2 * n_workers
        for i, lo in enumerate(starts):
            for j in range(i, min(i + window, len(starts))):
                if j not in pending:
                    pending[j] = pool.submit(_block, geo, e[starts[j] : starts[j] + size], seed, j, cfg)
            showers = pending.pop(i).result()
            writer.append(e[lo : lo + size], showers)
            bar.update(len(showers))
            del showers
