"""``calovq bench evaluate``: wall time and peak memory of an evaluation on simulated files.

Two samples are produced with the embedded simulator (:mod:`calovq.simulate`; reference with ``seed``,
"generated" with ``seed + 1``; optionally a deliberately distorted copy instead), then
:func:`calovq.evaluate.pipeline.evaluate_files` runs in a child process so that its peak resident set
size (``ru_maxrss``) is measured on its own. Figures go to ``docs/benchmarks.md``; tests never time.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from calovq.data.atomic import ensure_directory
from calovq.data.calochallenge import ShowerFile, ShowerWriter
from calovq.exceptions import CaloVQError
from calovq.geometry import Geometry, get_geometry

__all__ = ["EvaluateBenchResult", "bench_evaluate", "distort_file", "distort_showers", "make_sample"]

_CHILD = """
import json, resource, sys, time
from calovq.evaluate.pipeline import evaluate_files
kw = json.loads(sys.argv[1])
t0 = time.perf_counter()
res = evaluate_files(**kw)
wall = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"wall_s": wall, "peak_rss_mb": rss / 1024.0, "timing_s": res["timing_s"]}))
"""


def distort_showers(
    showers: np.ndarray, geometry: Geometry, energy_scale: float = 0.9, radial_leak: float = 0.25
) -> np.ndarray:
    """A deliberately wrong copy: energies scaled by ``energy_scale`` and a fraction ``radial_leak`` of
    every voxel's energy moved one radial bin outward (the outermost bin keeps it), making showers wider.
    """
    out = np.array(showers, dtype=np.float32, copy=True) * energy_scale
    for pos, layer in enumerate(geometry.binned_layers):
        sl = geometry.layer_slice(pos)
        grid = out[:, sl].reshape(len(out), layer.n_alpha, layer.n_r)
        if layer.n_r > 1:
            moved = grid[:, :, :-1] * radial_leak
            grid[:, :, :-1] -= moved
            grid[:, :, 1:] += moved
        out[:, sl] = grid.reshape(len(out), -1)
    return out


def distort_file(source: str | Path, target: str | Path, overwrite: bool = False, **kwargs: float) -> Path:
    """Stream ``source`` into ``target`` through :func:`distort_showers` (incident energies unchanged)."""
    with ShowerFile(source) as f, ShowerWriter(target, f.geometry, overwrite=overwrite) as w:
        for e, s in f.iter_chunks():
            w.append(e, distort_showers(s, f.geometry, **kwargs))
    return Path(target)


def make_sample(path: str | Path, geometry: str | Geometry, n: int, seed: int, overwrite: bool = True) -> str:
    """Write ``n`` showers of the embedded simulator to ``path``; returns the source label ``"simulator"``."""
    from calovq.simulate import simulate_to_file

    simulate_to_file(path, get_geometry(geometry), n, seed, overwrite=overwrite, progress=False)
    return "simulator"


@dataclass
class EvaluateBenchResult:
    """Outcome of :func:`bench_evaluate`."""

    dataset: str
    n: int
    metrics: list[str]
    classifier_epochs: int
    reference_floor: bool
    source: str
    wall_s: float
    peak_rss_mb: float
    simulate_s: float
    timing_s: dict[str, float] = field(default_factory=dict)
    machine: str = ""
    command: str = ""

    def line(self) -> str:
        return (
            f"evaluate dataset {self.dataset}: {self.n} vs {self.n} showers ({self.source}), metrics "
            f"{' '.join(self.metrics)}, {self.classifier_epochs} classifier epochs, floor "
            f"{'on' if self.reference_floor else 'off'}: {self.wall_s:.1f} s wall, peak RSS {self.peak_rss_mb:.0f} MB"
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def bench_evaluate(
    dataset: str = "2",
    n: int = 20000,
    metrics: Sequence[str] = ("hist", "fpd", "kpd", "prdc", "cls-low", "cls-high"),
    classifier_epochs: int = 50,
    reference_floor: bool = True,
    seed: int = 0,
    workdir: str | Path | None = None,
    distort: bool = False,
    prdc_max_events: int | None = None,
    extra: dict[str, Any] | None = None,
) -> EvaluateBenchResult:
    """Simulate two samples of ``n`` showers and time a full evaluation of one against the other.

    Args:
        dataset: geometry name.
        n: showers per sample.
        metrics: metrics to compute.
        classifier_epochs: classifier training length.
        reference_floor: also compute the reference floor.
        seed: reference seed (the generated sample uses ``seed + 1``).
        workdir: keep the files and outputs here (default: a temporary directory, removed).
        distort: evaluate a distorted copy of the generated sample instead.
        prdc_max_events: cap on the events entering PRDC.
        extra: more keyword arguments of ``evaluate_files``.

    Raises:
        CaloVQError: the evaluation child process failed.
    """
    geo = get_geometry(dataset)
    if n < 4:
        msg = f"need at least 4 showers per sample, got {n}"
        raise CaloVQError(msg)
    with tempfile.TemporaryDirectory(prefix="calovq-bench-evaluate-") as tmp:
        d = Path(workdir) if workdir is not None else Path(tmp)
        ensure_directory(d)
        t0 = time.perf_counter()
        ref, gen = d / f"ref_{geo.name}_{n}.h5", d / f"gen_{geo.name}_{n}.h5"
        source = make_sample(ref, geo, n, seed)
        make_sample(gen, geo, n, seed + 1)
        if distort:
            gen = distort_file(gen, d / f"distorted_{geo.name}_{n}.h5", overwrite=True)
        simulate_s = time.perf_counter() - t0
        kwargs: dict[str, Any] = {
            "generated": str(gen),
            "reference": str(ref),
            "geometry": geo.name,
            "outdir": str(d / f"eval_{geo.name}_{n}{'_distorted' if distort else ''}"),
            "metrics": list(metrics),
            "overwrite": True,
            "classifier_epochs": classifier_epochs,
            "reference_floor": reference_floor,
            "progress": False,
            "prdc_max_events": prdc_max_events,
            **(extra or {}),
        }
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, json.dumps(kwargs)],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        if proc.returncode != 0:
            tail = proc.stderr.strip().splitlines()[-1:] or ["(no output)"]
            msg = f"evaluation child failed (exit {proc.returncode}): {tail[0]}"
            raise CaloVQError(msg)
        child = json.loads(proc.stdout.strip().splitlines()[-1])
    return EvaluateBenchResult(
        dataset=geo.name,
        n=n,
        metrics=list(metrics),
        classifier_epochs=classifier_epochs,
        reference_floor=reference_floor,
        source=source,
        wall_s=round(child["wall_s"], 2),
        peak_rss_mb=round(child["peak_rss_mb"], 1),
        simulate_s=round(simulate_s, 2),
        timing_s=child["timing_s"],
        machine=f"{platform.node()} {os.cpu_count()} CPUs, Python {platform.python_version()}",
        command=(
            f"calovq bench evaluate --dataset {geo.name} -n {n} --metrics {' '.join(metrics)} "
            f"--epochs {classifier_epochs}"
            + ("" if reference_floor else " --no-floor")
            + ("" if prdc_max_events is None else f" --prdc-max-events {prdc_max_events}")
            + (" --distort" if distort else "")
        ),
    )
