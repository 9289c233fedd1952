"""``evaluate_files``: every CaloChallenge 2022 metric for a generated file against a reference file.

The pipeline streams both files in chunks (never loading a whole sample), applies the readout threshold,
and computes (arXiv:2410.21611; definitions in ``docs/evaluation.md``):

- ``hist``: separation power (eq. 15 of arXiv:2009.03796) of every high-level-feature histogram and of
  the voxel-energy spectrum, with the official binnings, and their mean;
- ``fpd`` / ``kpd``: Frechet and kernel physics distances on the high-level vector;
- ``prdc``: precision, recall, density and coverage on log10 voxel energies;
- ``cls-low`` / ``cls-high`` (and opt-in ``cls-resnet`` for datasets 2/3): classifier AUC and JSD.

The *reference floor* repeats every metric for two disjoint random halves of the reference file, so a
reader sees what "indistinguishable" looks like at this sample size. Reference rows are stored in a
random order ("slots"): slots ``[0, n/2)`` form half A, ``[n/2, n)`` half B, so the per-voxel classifier
and PRDC inputs (temporary ``np.memmap`` files on disk, never in memory) serve both comparisons without
copies.

Passes over the files: reference (features, maxima, averages, memmaps), generated (the same plus the
voxel histogram, whose bins end at the reference maximum), and reference again for its voxel histograms.
The average showers, overall and per incident-energy range (:func:`average_energy_ranges`, the official
"avg-E" plots), are accumulated as voxel sums and event counts during the first two passes.
"""

from __future__ import annotations

import functools
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from calovq.data.atomic import check_output, ensure_directory
from calovq.data.calochallenge import ShowerFile
from calovq.evaluate.features import FeatureAccumulator, HighLevelFeatures, apply_threshold
from calovq.evaluate.separation import (
    HistogramAccumulator,
    HistogramResult,
    HistogramSpec,
    compare_features,
    ds1_energy_ranges,
    feature_specs,
    mean_separation,
    voxel_spec,
)
from calovq.exceptions import CaloVQError, ConfigError, DataFormatError
from calovq.geometry import Geometry, get_geometry

__all__ = [
    "ALL_METRICS",
    "DEFAULT_METRICS",
    "OUTPUT_NAMES",
    "EnergyRange",
    "average_energy_ranges",
    "energy_range_index",
    "evaluate_files",
    "fpd_input",
]

DEFAULT_METRICS: tuple[str, ...] = ("hist", "fpd", "kpd", "prdc", "cls-low", "cls-high")
ALL_METRICS: tuple[str, ...] = (*DEFAULT_METRICS, "cls-resnet")
#: What ``evaluate_files`` writes into OUTDIR (an existing one is only replaced with ``overwrite``).
OUTPUT_NAMES: tuple[str, ...] = ("metrics.json", "summary.txt", "report.html", "plots")
#: p-value of the two-sample KS test on E_inc below which the energy spectra are flagged as different.
ENERGY_CHECK_P = 1e-3


@dataclass(frozen=True)
class EnergyRange:
    """An incident-energy window ``[lo, hi)`` (``[lo, hi]`` when ``closed``) of the per-energy averages."""

    label: str  # file-name part: plots/average_shower_E_<label>.png
    caption: str
    lo: float
    hi: float
    closed: bool = False


def average_energy_ranges(geometry: Geometry) -> list[EnergyRange]:
    """Incident-energy ranges of the official "avg-E" average-shower plots.

    Dataset 1: one window ``[2^k, 2^(k+1))`` per discrete energy 2^8 ... 2^22 MeV (the windows of the
    per-energy E_tot/E_inc histograms); continuous-energy geometries: the decades [1e3, 1e4), [1e4, 1e5)
    and [1e5, 1e6] MeV.
    """
    if geometry.discrete_energies_mev:
        return [
            EnergyRange(f"{int(lo)}MeV", f"E_inc = {lo:g} MeV", lo, hi) for lo, hi, _ in ds1_energy_ranges(geometry)
        ]
    out = []
    for k in (3, 4, 5):
        last = k == 5
        caption = f"E_inc in [1e{k}, 1e{k + 1}{']' if last else ')'} MeV"
        out.append(EnergyRange(f"1e{k}-1e{k + 1}MeV", caption, 10.0**k, 10.0 ** (k + 1), closed=last))
    return out


def energy_range_index(energies: np.ndarray, ranges: Sequence[EnergyRange]) -> np.ndarray:
    """Index into ``ranges`` of each incident energy (the first range that holds it), -1 for none."""
    e = np.asarray(energies, dtype=np.float64).reshape(-1)
    idx = np.full(e.shape, -1, dtype=np.int64)
    for k in range(len(ranges) - 1, -1, -1):
        r = ranges[k]
        inside = (e >= r.lo) & ((e <= r.hi) if r.closed else (e < r.hi))
        idx[inside] = k
    return idx


def fpd_input(features: HighLevelFeatures) -> np.ndarray:
    """FPD/KPD features: ``[log10 E_inc, high-level vector]``, the classifier input without its label."""
    return np.concatenate([np.log10(features.energies)[:, None], features.matrix()], axis=1)


@dataclass
class _Sample:
    """What one streaming pass collects about a sample."""

    n: int
    features: HighLevelFeatures | None = None
    voxel_max: float = 0.0
    shower_sum: np.ndarray | None = None
    range_sum: np.ndarray | None = None  # (n_ranges, n_voxels) voxel sums per incident-energy range
    range_count: np.ndarray | None = None  # (n_ranges,) events per incident-energy range
    low: np.ndarray | None = None  # memmap (n, 1 + n_voxels), classifier low-level input
    prdc: np.ndarray | None = None  # memmap (n_prdc, n_voxels), log10 voxel energies
    extra: dict[str, Any] = field(default_factory=dict)


def _log_default(message: str) -> None:
    del message


def _check_outdir(outdir: Path, overwrite: bool) -> None:
    if outdir.exists() and not outdir.is_dir():
        msg = f"{outdir} exists and is not a directory"
        raise CaloVQError(msg)
    for name in OUTPUT_NAMES:
        check_output(outdir / name, overwrite)


def _check_device(device: str) -> None:
    """Raise :class:`ConfigError` unless ``device`` names a torch device this machine has."""
    import torch

    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        msg = f"unknown torch device {device!r} (use cpu, cuda or cuda:N)"
        raise ConfigError(msg) from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        msg = f"device {device!r} requested but CUDA is not available on this machine"
        raise ConfigError(msg)


def _energy_check(e_gen: np.ndarray, e_ref: np.ndarray) -> dict[str, Any]:
    from scipy.stats import ks_2samp

    res = ks_2samp(e_gen, e_ref)
    p = float(res.pvalue)
    out: dict[str, Any] = {
        "ks_statistic": float(res.statistic),
        "p_value": p,
        "match": bool(p >= ENERGY_CHECK_P),
        "generated_range_mev": [float(e_gen.min()), float(e_gen.max())],
        "reference_range_mev": [float(e_ref.min()), float(e_ref.max())],
    }
    return out


def _memmap(tmpdir: Path, name: str, shape: tuple[int, int], dtype: Any = np.float32) -> np.ndarray:
    return np.lib.format.open_memmap(tmpdir / f"{name}.npy", mode="w+", dtype=dtype, shape=shape)


def _scan(
    f: ShowerFile,
    n: int,
    slots: np.ndarray | None,
    need: set[str],
    tmpdir: Path,
    tag: str,
    chunk_rows: int | None,
    progress: bool,
    voxel_hist: HistogramAccumulator | None = None,
    prdc_cap: int | None = None,
    energy_ranges: Sequence[EnergyRange] = (),
) -> _Sample:
    """One pass over the first ``n`` events: features, maxima, average shower and per-voxel inputs.

    ``slots`` (reference only) maps file row -> storage row; half A is slots < n // 2 (its voxel maximum
    is tracked separately). PRDC rows are capped at ``prdc_cap`` per sample (see :func:`_prdc_rows`).
    Voxel sums and event counts are also kept per range of ``energy_ranges``.
    """
    geo = f.geometry
    acc = FeatureAccumulator(geo, threshold=False)
    out = _Sample(n=n, shower_sum=np.zeros(geo.n_voxels))
    if energy_ranges:
        out.range_sum = np.zeros((len(energy_ranges), geo.n_voxels))
        out.range_count = np.zeros(len(energy_ranges), dtype=np.int64)
    half = n // 2
    max_a = 0.0
    low_fn = prdc_fn = None
    if "cls-low" in need or "cls-resnet" in need:
        from calovq.evaluate.classifier import low_level_input

        low_fn = low_level_input
        width = np.asarray(low_fn(np.ones(1), np.zeros((1, geo.n_voxels), np.float32))).shape[1]
        out.low = _memmap(tmpdir, f"{tag}_low", (n, width))
    if "prdc" in need:
        from calovq.evaluate.prdc import prdc_input

        prdc_fn = prdc_input
        out.prdc = _memmap(tmpdir, f"{tag}_prdc", (_prdc_rows(n, prdc_cap, slots is not None), geo.n_voxels))
    rows_seen = 0
    for e, s in f.iter_chunks(chunk_rows, stop=n, progress=f"{tag}: {f.path.name}" if progress else False):
        lo, hi = rows_seen, rows_seen + len(e)
        rows_seen = hi
        apply_threshold(s, geo.threshold_mev)
        acc.add(e, s)
        out.shower_sum += s.sum(axis=0, dtype=np.float64)
        if out.range_sum is not None and out.range_count is not None:
            which = energy_range_index(e, energy_ranges)
            for k in np.unique(which[which >= 0]):
                sel = which == k
                out.range_sum[k] += s[sel].sum(axis=0, dtype=np.float64)
                out.range_count[k] += int(sel.sum())
        if s.size:
            out.voxel_max = max(out.voxel_max, float(s.max()))
        dest = np.arange(lo, hi) if slots is None else slots[lo:hi]
        if slots is not None:
            in_a = dest < half
            if in_a.any():
                max_a = max(max_a, float(s[in_a].max()))
        if voxel_hist is not None:
            voxel_hist.fill(s[s > 0])
        if low_fn is not None and out.low is not None:
            out.low[dest] = low_fn(e, s)
        if prdc_fn is not None and out.prdc is not None:
            compact = _prdc_index(dest, n, prdc_cap, slots is not None)
            keep = compact >= 0
            if keep.any():
                out.prdc[compact[keep]] = prdc_fn(s[keep])
    feats = acc.result()
    if slots is not None:
        order = np.empty(n, dtype=np.int64)
        order[slots] = np.arange(n)
        feats = feats.subset(order)  # storage (slot) order
    out.features = feats
    out.extra["voxel_max_half_a"] = max_a
    for arr in (out.low, out.prdc):
        if isinstance(arr, np.memmap):
            arr.flush()
    return out


def _range_means(
    ranges: Sequence[EnergyRange], ref: _Sample, gen: _Sample
) -> list[tuple[EnergyRange, np.ndarray, np.ndarray]]:
    """``(range, mean reference, mean generated)`` of every range with events in both samples."""
    if ref.range_sum is None or ref.range_count is None or gen.range_sum is None or gen.range_count is None:
        return []
    out = []
    for k, r in enumerate(ranges):
        n_r, n_g = int(ref.range_count[k]), int(gen.range_count[k])
        if n_r and n_g:
            out.append((r, ref.range_sum[k] / n_r, gen.range_sum[k] / n_g))
    return out


def _prdc_rows(n: int, cap: int | None, split: bool) -> int:
    """Rows of the PRDC memmap: ``min(n, cap)``; for the split reference, ``2 * min(n // 2, cap)``."""
    if not split:
        return n if cap is None else min(n, cap)
    half = n // 2
    return 2 * (half if cap is None else min(half, cap))


def _prdc_index(dest: np.ndarray, n: int, cap: int | None, split: bool) -> np.ndarray:
    """Storage row -> PRDC memmap row (-1: left out).

    The split reference keeps the first ``c = min(n // 2, cap)`` slots of each half, half A first, so
    rows ``[0, c)`` and ``[c, 2c)`` are the two halves and any prefix is a random reference subset.
    """
    rows = _prdc_rows(n, cap, split)
    if not split:
        return np.where(dest < rows, dest, -1)
    half, c = n // 2, rows // 2
    out = np.full(dest.shape, -1, dtype=np.int64)
    a = dest < c
    b = (dest >= half) & (dest < half + c)
    out[a] = dest[a]
    out[b] = c + dest[b] - half
    return out


def _voxel_hists_reference(
    f: ShowerFile, n: int, slots: np.ndarray, full: HistogramAccumulator, half_a: HistogramAccumulator,
    half_b: HistogramAccumulator, chunk_rows: int | None, progress: bool,
) -> None:  # fmt: skip
    """Second reference pass: voxel spectra of the whole file and of both halves."""
    half = n // 2
    seen = 0
    desc = f"reference voxels: {f.path.name}" if progress else False
    for _, s in f.iter_chunks(chunk_rows, stop=n, progress=desc):
        dest = slots[seen : seen + len(s)]
        seen += len(s)
        apply_threshold(s, f.geometry.threshold_mev)
        full.fill(s[s > 0])
        a = s[dest < half]
        b = s[(dest >= half) & (dest < 2 * half)]
        half_a.fill(a[a > 0])
        half_b.fill(b[b > 0])


def _histogram_metrics(results: list[HistogramResult]) -> dict[str, Any]:
    return {
        "summary": mean_separation(results),
        "per_histogram": {r.spec.key: r.to_dict() for r in results},
    }


def _classifier(
    kind: str, x_ref: np.ndarray, x_gen: np.ndarray, geo: Geometry, settings: dict[str, Any], progress: bool
) -> dict[str, Any]:
    from calovq.evaluate.classifier import train_classifier

    kwargs: dict[str, Any] = {
        "model": "cnn" if kind == "cls-resnet" else "dnn",
        "epochs": settings["classifier_epochs"],
        "repeats": settings["classifier_repeats"],
        "seed": settings["seed"],
        "device": settings["device"],
        "progress": progress,
    }
    if kind == "cls-resnet":
        kwargs["grid_shape"] = geo.shape
    if settings.get("classifier_width") is not None:
        kwargs["width"] = settings["classifier_width"]
    n = min(len(x_ref), len(x_gen))
    result = train_classifier(x_ref[:n], x_gen[:n], **kwargs)
    out = result.to_dict()
    out["n_per_class"] = n
    return out


def _compare(
    which: str,
    ref: _Sample,
    gen: _Sample,
    ref_rows: slice,
    gen_rows: slice,
    metrics: Sequence[str],
    geo: Geometry,
    voxel: tuple[HistogramSpec, HistogramAccumulator, HistogramAccumulator] | None,
    settings: dict[str, Any],
    timing: dict[str, float],
    log: Callable[[str], None],
    progress: bool,
) -> tuple[dict[str, Any], list[HistogramResult]]:
    """All requested metrics of ``gen[gen_rows]`` against ``ref[ref_rows]`` (reference first)."""
    assert ref.features is not None
    assert gen.features is not None
    f_ref = ref.features.subset(ref_rows)
    f_gen = gen.features.subset(gen_rows)
    out: dict[str, Any] = {"n_reference": len(f_ref), "n_generated": len(f_gen)}
    hist_results: list[HistogramResult] = []

    def timed(name: str, fn: Callable[[], Any]) -> None:
        log(f"[{which}] {name} ...")
        t0 = time.perf_counter()
        try:
            out[name] = fn()
        except ImportError as exc:
            out[name] = {"error": f"not available: {exc}"}
            log(f"[{which}] {name}: not available ({exc})")
        timing[f"{which}/{name}"] = round(time.perf_counter() - t0, 3)

    if "hist" in metrics:

        def hist() -> dict[str, Any]:
            specs = feature_specs(geo, f_ref)
            results = compare_features(f_ref, f_gen, specs)
            if voxel is not None:
                results.append(HistogramResult(voxel[0], voxel[1].counts, voxel[2].counts))
            hist_results.extend(results)
            return _histogram_metrics(results)

        timed("hist", hist)
    if "fpd" in metrics or "kpd" in metrics:
        x_ref, x_gen = fpd_input(f_ref), fpd_input(f_gen)
        from calovq.evaluate import fpd_kpd

        if "fpd" in metrics:
            timed("fpd", lambda: fpd_kpd.fpd(x_ref, x_gen, seed=42))
        if "kpd" in metrics:
            timed("kpd", lambda: fpd_kpd.kpd(x_ref, x_gen, seed=42))
    if "prdc" in metrics and ref.prdc is not None and gen.prdc is not None:
        from calovq.evaluate import prdc as prdc_mod

        fn = prdc_mod.compute_prdc
        if which == "floor":
            c = len(ref.prdc) // 2
            p_ref, p_gen = ref.prdc[:c], ref.prdc[c : 2 * c]
        else:
            m = min(len(ref.prdc), len(gen.prdc))
            p_ref, p_gen = ref.prdc[:m], gen.prdc[:m]

        def prdc() -> dict[str, Any]:
            res = dict(fn(p_ref, p_gen))
            res.update(n_reference=len(p_ref), n_generated=len(p_gen), capped=settings["prdc_capped"])
            return res

        timed("prdc", prdc)
    for kind in ("cls-low", "cls-resnet"):
        if kind in metrics and ref.low is not None and gen.low is not None:
            run = functools.partial(_classifier, kind, ref.low[ref_rows], gen.low[gen_rows], geo, settings, progress)
            timed(kind, run)
    if "cls-high" in metrics:
        from calovq.evaluate.classifier import high_level_input

        x_r = high_level_input(f_ref.energies, f_ref.matrix())
        x_g = high_level_input(f_gen.energies, f_gen.matrix())
        timed("cls-high", lambda: _classifier("cls-high", x_r, x_g, geo, settings, progress))
    return out, hist_results


def evaluate_files(
    generated: str | Path,
    reference: str | Path,
    geometry: str | Geometry,
    outdir: str | Path,
    metrics: Sequence[str] = DEFAULT_METRICS,
    overwrite: bool = False,
    classifier_epochs: int = 50,
    classifier_repeats: int = 1,
    reference_floor: bool = True,
    max_events: int | None = None,
    seed: int = 0,
    progress: bool = True,
    device: str = "cpu",
    chunk_rows: int | None = None,
    prdc_max_events: int | None = None,
    classifier_width: int | None = None,
    plots: bool = True,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Evaluate ``generated`` against ``reference`` and write metrics.json, summary.txt, report.html, plots.

    Args:
        generated: CaloChallenge HDF5 file of generated showers.
        reference: CaloChallenge HDF5 file of reference (Geant4 or simulator) showers.
        geometry: dataset name (``"1-photons"``, ``"1-pions"``, ``"2"``, ``"3"``, ``"tiny"``) or Geometry.
        outdir: output directory (created); existing outputs are replaced only with ``overwrite``.
        metrics: any of :data:`ALL_METRICS` (``"cls-resnet"`` only for regular geometries).
        overwrite: replace existing outputs in ``outdir``.
        classifier_epochs, classifier_repeats: classifier training length and repetitions (official: 50, 10).
        reference_floor: also compare two disjoint random halves of the reference.
        max_events: use at most this many events of each file (the first ones).
        seed: seed of the reference half split and of the classifiers (FPD/KPD keep the official seed 42).
        progress: tqdm progress bars on stderr.
        device: torch device for the classifiers.
        chunk_rows: rows per streamed block (default about 64 MiB).
        prdc_max_events: cap on the events per sample entering PRDC (None: all).
        classifier_width: hidden width of the classifiers (None: the official 2048 / CNN default).
        plots: write the PNG plots and embed them in the report.
        log: callable receiving progress messages (default: silent).

    Returns:
        The metrics dictionary that was written to ``metrics.json``.

    Raises:
        DataFormatError: an input file is missing or malformed (voxel count, NaN, negative energies).
        OutputExistsError: outputs exist in ``outdir`` and ``overwrite`` is False.
        CaloVQError: an unknown metric or a metric that does not apply to the geometry.
    """
    from calovq import __version__

    log = log or _log_default
    geo = get_geometry(geometry)
    metrics = tuple(dict.fromkeys(metrics))
    unknown = [m for m in metrics if m not in ALL_METRICS]
    if unknown:
        msg = f"unknown metric(s) {', '.join(unknown)}; choose from {', '.join(ALL_METRICS)}"
        raise CaloVQError(msg)
    if "cls-resnet" in metrics and not geo.is_regular:
        msg = f"cls-resnet needs a regular geometry (datasets 2/3), not {geo.name!r}"
        raise CaloVQError(msg)
    if classifier_epochs < 1 or classifier_repeats < 1:
        msg = "classifier epochs and repeats must be >= 1"
        raise CaloVQError(msg)
    if any(m.startswith("cls-") for m in metrics):
        _check_device(device)
    out_path = Path(outdir)
    _check_outdir(out_path, overwrite)
    t_start = time.perf_counter()
    timing: dict[str, float] = {}
    warn: list[str] = []
    with ShowerFile(generated, geo) as fg, ShowerFile(reference, geo) as fr:
        n_gen = fg.n_events if max_events is None else min(fg.n_events, max_events)
        n_ref = fr.n_events if max_events is None else min(fr.n_events, max_events)
        if n_gen < 2 or n_ref < 4:
            msg = f"too few events to evaluate: {n_gen} generated, {n_ref} reference"
            raise DataFormatError(msg)
        e_check = _energy_check(fg.energies(stop=n_gen), fr.energies(stop=n_ref))
        if not e_check["match"]:
            line = (
                "incident-energy distributions of the two files differ "
                f"(KS p = {e_check['p_value']:.2g}); histograms and classifiers are biased"
            )
            warn.append(line)
            log(f"warning: {line}")
        if n_gen != n_ref:
            warn.append(f"sample sizes differ ({n_gen} generated, {n_ref} reference); classifiers use the smaller")
        rng = np.random.default_rng(seed)
        slots = rng.permutation(n_ref)
        prdc_n = None if prdc_max_events is None else max(2, prdc_max_events)
        settings: dict[str, Any] = {
            "metrics": list(metrics),
            "dataset": geo.name,
            "threshold_mev": geo.threshold_mev,
            "classifier_epochs": classifier_epochs,
            "classifier_repeats": classifier_repeats,
            "classifier_width": classifier_width,
            "reference_floor": reference_floor,
            "max_events": max_events,
            "seed": seed,
            "fpd_kpd_seed": 42,
            "device": device,
            "chunk_rows": chunk_rows,
            "prdc_max_events": prdc_max_events,
            "prdc_capped": prdc_n is not None and prdc_n < max(n_gen, n_ref),
        }
        need = set(metrics)
        e_ranges = average_energy_ranges(geo) if plots else []
        ensure_directory(out_path)
        with tempfile.TemporaryDirectory(dir=out_path.parent, prefix=".calovq-evaluate-") as tmp:
            tmpdir = Path(tmp)
            t0 = time.perf_counter()
            ref = _scan(
                fr, n_ref, slots, need, tmpdir, "reference", chunk_rows, progress,
                prdc_cap=prdc_n, energy_ranges=e_ranges,
            )  # fmt: skip
            timing["scan/reference"] = round(time.perf_counter() - t0, 3)
            vspec = voxel_spec(geo, ref.voxel_max)
            vspec_a = voxel_spec(geo, ref.extra["voxel_max_half_a"])
            vox_gen = HistogramAccumulator(vspec.edges) if "hist" in need else None
            t0 = time.perf_counter()
            gen = _scan(
                fg, n_gen, None, need, tmpdir, "generated", chunk_rows, progress, vox_gen,
                prdc_cap=prdc_n, energy_ranges=e_ranges,
            )  # fmt: skip
            timing["scan/generated"] = round(time.perf_counter() - t0, 3)
            vox_ref = vox_a = vox_b = None
            if "hist" in need:
                t0 = time.perf_counter()
                vox_ref = HistogramAccumulator(vspec.edges)
                vox_a, vox_b = HistogramAccumulator(vspec_a.edges), HistogramAccumulator(vspec_a.edges)
                _voxel_hists_reference(fr, n_ref, slots, vox_ref, vox_a, vox_b, chunk_rows, progress)
                timing["scan/reference_voxels"] = round(time.perf_counter() - t0, 3)
            full = slice(0, None)
            main, hist_main = _compare(
                "generated", ref, gen, full, full, metrics, geo,
                (vspec, vox_ref, vox_gen) if vox_ref is not None and vox_gen is not None else None,
                settings, timing, log, progress,
            )  # fmt: skip
            floor: dict[str, Any] | None = None
            if reference_floor:
                half = n_ref // 2
                floor, _ = _compare(
                    "floor", ref, ref, slice(0, half), slice(half, 2 * half), metrics, geo,
                    (vspec_a, vox_a, vox_b) if vox_a is not None and vox_b is not None else None,
                    settings, timing, log, progress,
                )  # fmt: skip
                floor["n_per_half"] = half
            assert ref.shower_sum is not None
            assert gen.shower_sum is not None
            mean_ref, mean_gen = ref.shower_sum / n_ref, gen.shower_sum / n_gen
            range_means = _range_means(e_ranges, ref, gen)
            assert ref.features is not None
            assert gen.features is not None
            ref.low = gen.low = ref.prdc = gen.prdc = None
    result: dict[str, Any] = {
        "calovq_version": __version__,
        "reference_paper": "CaloChallenge 2022, arXiv:2410.21611",
        "dataset": geo.name,
        "generated": {"path": str(Path(generated)), "n_events_file": fg.n_events, "n_events_used": n_gen},
        "reference": {"path": str(Path(reference)), "n_events_file": fr.n_events, "n_events_used": n_ref},
        "settings": settings,
        "incident_energy_check": e_check,
        "generated_vs_reference": main,
        "reference_floor": floor,
        "warnings": warn,
        "timing_s": timing,
    }
    from calovq.evaluate.report import write_outputs

    timing["metrics_total"] = round(time.perf_counter() - t_start, 3)
    write_outputs(
        result, out_path, geo, hist_main if plots else None, (mean_ref, mean_gen) if plots else None,
        ref_features=ref.features, gen_features=gen.features, overwrite=overwrite, log=log,
        range_means=[(r.label, r.caption, m_r, m_g) for r, m_r, m_g in range_means] if plots else None,
    )  # fmt: skip
    return result
