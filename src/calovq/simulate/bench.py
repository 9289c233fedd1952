"""Speed and memory benchmark of the simulator (figures for docs/benchmarks.md; never used in tests)."""

from __future__ import annotations

import json
import os
import resource
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from calovq.geometry import get_geometry
from calovq.simulate.driver import default_chunk_size, default_workers, simulate_to_file

__all__ = ["SimBenchResult", "bench_simulate", "peak_rss_mb"]


def peak_rss_mb() -> tuple[float, float]:
    """Peak resident set size (MB) of this process and of its largest finished child (Linux: KiB units)."""
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return self_kb / 1024.0, child_kb / 1024.0


@dataclass(frozen=True)
class SimBenchResult:
    """One benchmark run of :func:`calovq.simulate.simulate_to_file`."""

    dataset: str
    n: int
    workers: int
    chunk_size: int
    seconds: float
    showers_per_s: float
    peak_rss_mb: float
    peak_rss_children_mb: float
    file_mb: float
    load_avg_1min: float

    def line(self) -> str:
        """One human-readable line."""
        return (
            f"simulate dataset {self.dataset}: {self.n} showers in {self.seconds:.1f} s = "
            f"{self.showers_per_s:.0f} showers/s on {self.workers} worker(s); peak RSS {self.peak_rss_mb:.0f} MB "
            f"(main) / {self.peak_rss_children_mb:.0f} MB (largest worker); file {self.file_mb:.0f} MB; "
            f"load average before {self.load_avg_1min:.2f}"
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def bench_simulate(
    dataset: str,
    n: int,
    workers: int | None = None,
    seed: int = 0,
    output: str | Path | None = None,
    chunk_size: int | None = None,
) -> SimBenchResult:
    """Time ``simulate_to_file`` end to end (simulation, compression, writing) and record peak memory.

    Args:
        dataset: geometry name.
        n: number of showers (official energy spectrum of the dataset).
        workers: worker processes (default: all CPUs).
        seed: random seed.
        output: file to write (default: a temporary file, removed afterwards).
        chunk_size: showers per block.
    """
    geo = get_geometry(dataset)
    n_workers = default_workers() if workers is None else workers
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="calovq-bench-") as tmp:
        path = Path(output) if output is not None else Path(tmp) / "bench.h5"
        t0 = time.perf_counter()
        simulate_to_file(path, geo, n, seed, workers=n_workers, chunk_size=chunk_size, progress=False, overwrite=True)
        dt = time.perf_counter() - t0
        size = path.stat().st_size / 2**20
    main_mb, child_mb = peak_rss_mb()
    return SimBenchResult(
        dataset=geo.name,
        n=n,
        workers=n_workers,
        chunk_size=chunk_size or default_chunk_size(geo),
        seconds=dt,
        showers_per_s=n / dt,
        peak_rss_mb=main_mb,
        peak_rss_children_mb=child_mb,
        file_mb=size,
        load_avg_1min=load,
    )
