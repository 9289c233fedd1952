"""Training batches streamed from CaloChallenge files, sharded over DDP ranks and DataLoader workers.

:class:`ShowerStream` never holds more than one block of showers per worker: it splits the event range
into blocks of ``block_rows`` events, deals the blocks round-robin to (rank, worker) pairs, shuffles the
block order and the events inside each block with a seed that changes every epoch, and yields batches of
``(incident_energies (B,), showers (B, n_voxels))`` float32 tensors.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from calovq.data.calochallenge import ShowerFile, default_chunk_rows
from calovq.geometry import Geometry

__all__ = ["ShowerStream"]


class ShowerStream(IterableDataset):
    """Iterable dataset of shower batches read block by block from one HDF5 file.

    Args:
        path: CaloChallenge file.
        batch_size: showers per yielded batch (the last batch of a block may be smaller unless
            ``drop_last``).
        geometry: geometry to validate against (default: guessed from the voxel count).
        shuffle: shuffle block order and events within blocks (seeded by ``seed + epoch``).
        seed: base seed; call :meth:`set_epoch` each epoch as with ``DistributedSampler``.
        rank, world_size: DDP shard (default: from ``torch.distributed`` when initialised).
        block_rows: events read per block (default: ~64 MiB of float32 showers).
        start, stop: event range to use (e.g. a train/validation split).
        drop_last: drop incomplete batches.
    """

    def __init__(
        self,
        path: str | Path,
        batch_size: int,
        geometry: str | Geometry | None = None,
        shuffle: bool = True,
        seed: int = 0,
        rank: int | None = None,
        world_size: int | None = None,
        block_rows: int | None = None,
        start: int = 0,
        stop: int | None = None,
        drop_last: bool = False,
    ) -> None:
        super().__init__()
        if batch_size < 1:
            msg = f"batch_size must be >= 1, got {batch_size}"
            raise ValueError(msg)
        self.path = Path(path)
        with ShowerFile(self.path, geometry) as f:  # validates the structure up front
            self.geometry = f.geometry
            n_events = f.n_events
        self.start = start
        self.stop = n_events if stop is None else min(stop, n_events)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = 0
        self.drop_last = drop_last
        self.block_rows = max(batch_size, block_rows or default_chunk_rows(self.geometry.n_voxels))
        if rank is None or world_size is None:
            dist = torch.distributed
            if dist.is_available() and dist.is_initialized():
                rank, world_size = dist.get_rank(), dist.get_world_size()
            else:
                rank, world_size = 0, 1
        self.rank, self.world_size = rank, world_size

    def set_epoch(self, epoch: int) -> None:
        """Change the shuffling of the next iteration (same seed on every rank)."""
        self.epoch = epoch

    def blocks(self) -> list[tuple[int, int]]:
        """All event blocks ``[lo, hi)`` of the range, in this epoch's order (before sharding)."""
        edges = list(range(self.start, self.stop, self.block_rows))
        blocks = [(lo, min(lo + self.block_rows, self.stop)) for lo in edges]
        if self.shuffle:
            order = np.random.default_rng((self.seed, self.epoch)).permutation(len(blocks))
            blocks = [blocks[i] for i in order]
        return blocks

    def _my_blocks(self) -> list[tuple[int, int]]:
        info = get_worker_info()
        n_workers, worker = (info.num_workers, info.id) if info is not None else (1, 0)
        shard, n_shards = self.rank * n_workers + worker, self.world_size * n_workers
        return self.blocks()[shard::n_shards]

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        mine = self._my_blocks()
        rng = np.random.default_rng((self.seed, self.epoch, self.rank, 1 + len(mine)))
        with ShowerFile(self.path, self.geometry) as f:
            for lo, hi in mine:
                e, s = f.read(lo, hi)
                idx = rng.permutation(len(e)) if self.shuffle else np.arange(len(e))
                for b in range(0, len(idx), self.batch_size):
                    sel = idx[b : b + self.batch_size]
                    if self.drop_last and len(sel) < self.batch_size:
                        break
                    yield (
                        torch.from_numpy(e[sel].astype(np.float32)),
                        torch.from_numpy(np.ascontiguousarray(s[sel])),
                    )
