"""Evaluation outputs: ``metrics.json``, a one-screen ``summary.txt`` and a self-contained ``report.html``.

The report shows every CaloChallenge 2022 metric (arXiv:2410.21611) for the generated sample next to the
*reference floor* (the same metric for two halves of the reference file) and all plots, referenced by
relative paths under ``plots/``: the directory opens in any browser without a server, and the page loads
no external CSS or JavaScript. All files are written atomically (:mod:`calovq.data.atomic`).
"""

from __future__ import annotations

import html
import json
import math
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from calovq.data.atomic import atomic_write_text, ensure_directory
from calovq.evaluate.features import HighLevelFeatures
from calovq.evaluate.separation import HistogramResult
from calovq.geometry import Geometry

__all__ = ["metric_rows", "render_html", "summary_text", "to_json", "write_outputs"]


def _clean(obj: Any) -> Any:
    """JSON-safe copy: numpy scalars/arrays to Python, NaN/inf to None."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _clean(obj.tolist())
    if isinstance(obj, np.generic):
        return _clean(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def to_json(result: dict[str, Any]) -> str:
    """``result`` as indented, strictly valid JSON (NaN and inf become null)."""
    return json.dumps(_clean(result), indent=2, allow_nan=False) + "\n"


def _get(d: dict[str, Any] | None, *path: str) -> Any:
    cur: Any = d
    for key in path:
        if not isinstance(cur, dict) or key not in cur:
            return None
        cur = cur[key]
    return cur


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, float):
        small = value != 0 and abs(value) < 1e-3
        return f"{value:.{digits}g}" if abs(value) >= 1e4 or small else f"{value:.{digits}f}"
    return str(value)


def _pm(value: Any, error: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    return f"{_fmt(value, digits)} ± {_fmt(error, 2)}" if error is not None else _fmt(value, digits)


def _cells(section: dict[str, Any] | None) -> dict[str, str]:
    if not section:
        return {}
    out: dict[str, str] = {}
    hist = _get(section, "hist", "summary")
    if hist:
        out["mean separation power"] = _fmt(hist.get("mean"))
        out["max separation power"] = _fmt(hist.get("max"))
    for name, label in (("fpd", "FPD x 1e3"), ("kpd", "KPD x 1e3")):
        m = section.get(name)
        if isinstance(m, dict) and "value_x1e3" in m:
            out[label] = _pm(m["value_x1e3"], m.get("error_x1e3"), 3) + (" (capped)" if m.get("capped") else "")
    p = section.get("prdc")
    if isinstance(p, dict) and "precision" in p:
        for k in ("precision", "recall", "density", "coverage"):
            out[k] = _fmt(p.get(k), 3)
    for name, label in (("cls-low", "low-level"), ("cls-high", "high-level"), ("cls-resnet", "ResNet")):
        c = section.get(name)
        if isinstance(c, dict) and "auc_mean" in c:
            out[f"AUC {label}"] = _pm(c["auc_mean"], c.get("auc_std") if c.get("repeats", 1) > 1 else None, 3)
            out[f"JSD {label}"] = _pm(c["jsd_mean"], c.get("jsd_std") if c.get("repeats", 1) > 1 else None, 3)
    for name in ("fpd", "kpd", "prdc", "cls-low", "cls-high", "cls-resnet", "hist"):
        m = section.get(name)
        if isinstance(m, dict) and "error" in m and isinstance(m["error"], str):
            out[name] = m["error"]
    return out


def metric_rows(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    """``(metric, generated vs reference, reference floor)`` rows shared by the text and HTML reports."""
    gen = _cells(result.get("generated_vs_reference"))
    floor = _cells(result.get("reference_floor"))
    names = list(dict.fromkeys([*gen, *floor]))
    return [(n, gen.get(n, "-"), floor.get(n, "-")) for n in names]


def summary_text(result: dict[str, Any]) -> str:
    """A one-screen plain-text summary of the evaluation."""
    g, r = result["generated"], result["reference"]
    e = result.get("incident_energy_check", {})
    lines = [
        f"calovq evaluate: dataset {result['dataset']} (CaloChallenge 2022 metrics, arXiv:2410.21611)",
        f"  generated: {g['path']} ({g['n_events_used']} of {g['n_events_file']} events)",
        f"  reference: {r['path']} ({r['n_events_used']} of {r['n_events_file']} events)",
        f"  incident energies: {'match' if e.get('match') else 'DIFFER'} (KS p = {_fmt(e.get('p_value'), 3)})",
        "",
    ]
    rows = metric_rows(result)
    w0 = max([len("metric"), *(len(a) for a, _, _ in rows)])
    w1 = max([len("generated"), *(len(b) for _, b, _ in rows)])
    lines.append(f"  {'metric':<{w0}}  {'generated':>{w1}}  reference floor")
    lines += [f"  {a:<{w0}}  {b:>{w1}}  {c}" for a, b, c in rows]
    s = result.get("settings", {})
    lines += [
        "",
        f"  classifier: {s.get('classifier_epochs')} epochs x {s.get('classifier_repeats')} repeat(s);"
        f" metrics computed in {_fmt(result.get('timing_s', {}).get('metrics_total'), 3)} s",
    ]
    lines += [f"  warning: {w}" for w in result.get("warnings", [])]
    return "\n".join(lines) + "\n"


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:1.5em auto;max-width:1150px;
color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:.25em .7em;text-align:right}
th:first-child,td:first-child{text-align:left}thead th{background:#f0f3f7}
.warn{background:#fff4e5;border-left:4px solid #f0a020;padding:.4em .8em}
.note{color:#555;font-size:.9em}figure{margin:1em 0}img{max-width:100%;border:1px solid #ddd}
figcaption{font-size:.9em;color:#444}details{margin:.6em 0}
"""


def _figure(caption: str, src: str) -> str:
    esc = html.escape
    return (
        f'<figure><img src="{esc(src, quote=True)}" alt="{esc(caption, quote=True)}" loading="lazy">'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


def render_html(
    result: dict[str, Any],
    plots: Sequence[tuple[str, str]] = (),
    energy_plots: Sequence[tuple[str, str]] = (),
) -> str:
    """The report page: metric table (generated vs reference floor), warnings, settings and plots.

    Args:
        result: the metrics dictionary of :func:`calovq.evaluate.pipeline.evaluate_files`.
        plots: ``(caption, relative path)`` of each plot.
        energy_plots: ``(caption, relative path)`` of the average showers per incident-energy range,
            listed in a collapsed section of their own.
    """
    esc = html.escape
    g, r = result["generated"], result["reference"]
    e = result.get("incident_energy_check", {})
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>calovq evaluation: dataset {esc(str(result['dataset']))}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Evaluation of <code>{esc(Path(g['path']).name)}</code> against "
        f"<code>{esc(Path(r['path']).name)}</code> (dataset {esc(str(result['dataset']))})</h1>",
        '<p class="note">Metrics of the CaloChallenge 2022 (arXiv:2410.21611); separation power: eq. 15 of '
        "arXiv:2009.03796. The <em>reference floor</em> compares two disjoint random halves of the reference "
        "file: values near it mean the generated sample is indistinguishable at this sample size.</p>",
        f"<p>Generated: {g['n_events_used']} events; reference: {r['n_events_used']} events; incident "
        f"energies {'match' if e.get('match') else '<strong>differ</strong>'} "
        f"(KS p = {_fmt(e.get('p_value'), 3)}).</p>",
    ]
    for w in result.get("warnings", []):
        parts.append(f'<p class="warn">Warning: {esc(w)}</p>')
    parts += [
        "<h2>Metrics</h2>",
        '<table id="metrics"><thead><tr><th>metric</th><th>generated vs reference</th>'
        "<th>reference floor</th></tr></thead><tbody>",
    ]
    for a, b, c in metric_rows(result):
        parts.append(f"<tr><td>{esc(a)}</td><td>{esc(b)}</td><td>{esc(c)}</td></tr>")
    parts.append("</tbody></table>")
    per_hist = _get(result, "generated_vs_reference", "hist", "per_histogram") or {}
    floor_hist = _get(result, "reference_floor", "hist", "per_histogram") or {}
    if per_hist:
        parts += [
            "<details><summary>Separation power of every histogram</summary>",
            "<table><thead><tr><th>histogram</th><th>generated</th><th>floor</th></tr></thead><tbody>",
        ]
        for key, v in per_hist.items():
            f = floor_hist.get(key, {})
            parts.append(
                f"<tr><td>{esc(key)}</td><td>{_fmt(v.get('separation_power'))}</td>"
                f"<td>{_fmt(f.get('separation_power'))}</td></tr>"
            )
        parts.append("</tbody></table></details>")
    if plots or energy_plots:
        parts.append("<h2>Plots</h2>")
        parts += [_figure(caption, src) for caption, src in plots]
    if energy_plots:
        parts += [
            '<h3 id="average-per-energy">Average showers per incident energy</h3>',
            f"<details><summary>{len(energy_plots)} incident-energy range(s): reference, generated, ratio "
            "(ranges without events in the generated or the reference sample are left out)</summary>",
            *(_figure(caption, src) for caption, src in energy_plots),
            "</details>",
        ]
    settings = json.dumps(_clean(result.get("settings", {})), indent=1)
    timing = json.dumps(_clean(result.get("timing_s", {})), indent=1)
    parts += [
        "<h2>Settings</h2>",
        f"<details><summary>settings and timing</summary><pre>{esc(settings)}\n{esc(timing)}</pre></details>",
        f'<p class="note">calovq {esc(str(result.get("calovq_version", "")))}; all numbers are in '
        "<code>metrics.json</code>.</p>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _write_plots(
    tmp: Path,
    geometry: Geometry,
    hist_results: Sequence[HistogramResult] | None,
    means: tuple[np.ndarray, np.ndarray] | None,
    range_means: Sequence[tuple[str, str, np.ndarray, np.ndarray]] | None = None,
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Render the plots into ``tmp``; returns ``(caption, src)`` of the main and the per-energy plots."""
    from calovq.evaluate.plots import plot_average_showers, plot_histograms

    written: list[tuple[str, str]] = []
    if means is not None:
        p = plot_average_showers(means[0], means[1], geometry, tmp / "average_shower.png")
        written.append(("Average shower per layer: reference, generated, ratio", f"plots/{p.name}"))
    if hist_results:
        for caption, p in plot_histograms(hist_results, tmp):
            written.append((caption, f"plots/{p.name}"))
    per_energy: list[tuple[str, str]] = []
    for label, caption, mean_ref, mean_gen in range_means or ():
        p = plot_average_showers(
            mean_ref, mean_gen, geometry, tmp / f"average_shower_E_{label}.png",
            title=f"Average shower per layer, {caption}",
        )  # fmt: skip
        per_energy.append((f"Average shower per layer, {caption}: reference, generated, ratio", f"plots/{p.name}"))
    return written, per_energy


def write_outputs(
    result: dict[str, Any],
    outdir: str | Path,
    geometry: Geometry,
    hist_results: Sequence[HistogramResult] | None = None,
    means: tuple[np.ndarray, np.ndarray] | None = None,
    ref_features: HighLevelFeatures | None = None,
    gen_features: HighLevelFeatures | None = None,
    overwrite: bool = False,
    log: Callable[[str], None] | None = None,
    range_means: Sequence[tuple[str, str, np.ndarray, np.ndarray]] | None = None,
) -> dict[str, Path]:
    """Write plots, ``metrics.json``, ``summary.txt`` and ``report.html`` into ``outdir``.

    ``range_means`` holds ``(label, caption, mean reference, mean generated)`` per incident-energy range,
    drawn as ``plots/average_shower_E_<label>.png``.

    Plots are rendered into a hidden temporary directory that replaces ``outdir/plots`` at the end.
    ``result`` gains a ``"plots"`` entry (relative paths). Returns the written paths by name.

    Raises:
        OutputExistsError: an output exists and ``overwrite`` is False.
    """
    del ref_features, gen_features  # reserved for per-feature scatter plots
    out = ensure_directory(outdir)
    plots: list[tuple[str, str]] = []
    energy_plots: list[tuple[str, str]] = []
    written: dict[str, Path] = {}
    if hist_results is not None or means is not None or range_means:
        if log:
            log("writing plots ...")
        tmp = out / f".plots.{os.getpid()}.partial"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            plots, energy_plots = _write_plots(tmp, geometry, hist_results, means, range_means)
            final = out / "plots"
            if final.exists():
                if not overwrite:
                    from calovq.exceptions import OutputExistsError

                    msg = f"{final} already exists (pass --overwrite / overwrite=True to replace it)"
                    raise OutputExistsError(msg)
                shutil.rmtree(final)
            tmp.rename(final)
            written["plots"] = final
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    result["plots"] = [p for _, p in (*plots, *energy_plots)]
    written["metrics.json"] = atomic_write_text(out / "metrics.json", to_json(result), overwrite)
    written["summary.txt"] = atomic_write_text(out / "summary.txt", summary_text(result), overwrite)
    written["report.html"] = atomic_write_text(out / "report.html", render_html(result, plots, energy_plots), overwrite)
    return written
