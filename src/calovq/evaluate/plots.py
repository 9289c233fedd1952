"""Evaluation plots (matplotlib, Agg backend; optional extra ``plot``).

Histograms are drawn from the accumulated counts of :mod:`calovq.evaluate.separation` (no sample is
needed): the reference filled, the generated sample as a line, and a ratio panel (generated / reference)
underneath, as in the CaloChallenge 2022 model papers (arXiv:2410.21611). Histograms of one feature
family share a figure, one panel per layer. Average showers are drawn per layer for both samples and
their ratio: as (alpha x r) images for regular geometries, as polar annuli (log r) for dataset 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from calovq._optional import require
from calovq.evaluate.separation import HistogramResult, density
from calovq.geometry import Geometry

__all__ = ["plot_average_showers", "plot_histogram_group", "plot_histograms"]

REF_COLOR = "#1f77b4"
GEN_COLOR = "#d62728"

_GROUP_TITLES = {
    "E_ratio": "E_tot / E_inc",
    "E_ratio_per_energy": "E_tot / E_inc per incident energy",
    "E_layer": "Energy per layer",
    "EC_eta": "Centre of energy in eta",
    "EC_phi": "Centre of energy in phi",
    "width_eta": "Width in eta",
    "width_phi": "Width in phi",
    "EC_r": "Centre of energy in r",
    "width_r": "Width in r",
    "sparsity": "Sparsity",
    "voxel": "Voxel energy spectrum",
}


def _pyplot() -> Any:
    mpl = require("matplotlib")
    mpl.use("Agg", force=True)
    return require("matplotlib.pyplot")


def _draw_one(ax: Any, rax: Any, result: HistogramResult, labels: tuple[str, str], legend: bool) -> None:
    edges = result.spec.edges
    d_ref = density(result.counts_ref, edges)
    d_gen = density(result.counts_gen, edges)
    if np.isfinite(d_ref).all():
        ax.stairs(d_ref, edges, fill=True, color=REF_COLOR, alpha=0.3, label=labels[0])
    if np.isfinite(d_gen).all():
        ax.stairs(d_gen, edges, color=GEN_COLOR, linewidth=1.2, label=labels[1])
    sep = result.separation
    title = result.spec.title or result.spec.key
    ax.set_title(f"{title}\nS = {sep:.4f}" if math.isfinite(sep) else f"{title}\nS undefined", fontsize=7)
    ax.tick_params(labelsize=6, labelbottom=False)
    positive = np.concatenate([d_ref[np.isfinite(d_ref) & (d_ref > 0)], d_gen[np.isfinite(d_gen) & (d_gen > 0)]])
    if positive.size:
        ax.set_yscale("log")
        ax.yaxis.set_minor_formatter(require("matplotlib.ticker").NullFormatter())
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(d_ref > 0, d_gen / d_ref, np.nan)
    rax.stairs(np.nan_to_num(ratio, nan=0.0), edges, color=GEN_COLOR, linewidth=1.0)
    rax.axhline(1.0, color="0.4", linewidth=0.6)
    rax.set_ylim(0.5, 1.5)
    rax.tick_params(labelsize=6)
    rax.set_xlabel(result.spec.xlabel, fontsize=6)
    if result.spec.logx:
        ax.set_xscale("log")
        rax.set_xscale("log")
    rax.set_xlim(edges[0], edges[-1])
    ax.set_xlim(edges[0], edges[-1])
    if legend:
        ax.legend(fontsize=6, loc="best")


def plot_histogram_group(
    results: Sequence[HistogramResult],
    path: str | Path,
    title: str = "",
    labels: tuple[str, str] = ("reference", "generated"),
    max_cols: int = 6,
    dpi: int = 80,
) -> Path:
    """One figure with a panel (histogram + ratio panel) per histogram of ``results``; saved as PNG.

    Args:
        results: histograms of one feature family.
        path: output PNG.
        title: figure title.
        labels: legend labels of the reference and generated samples.
        max_cols: panels per row.
        dpi: resolution.
    """
    plt = _pyplot()
    n = len(results)
    cols = min(max_cols, n)
    rows = math.ceil(n / cols)
    fig = plt.figure(figsize=(2.6 * cols, 2.6 * rows + 0.4), dpi=dpi)
    outer = fig.add_gridspec(rows, cols, hspace=0.55, wspace=0.35)
    for i, res in enumerate(results):
        inner = outer[i // cols, i % cols].subgridspec(2, 1, height_ratios=(3, 1), hspace=0.05)
        ax = fig.add_subplot(inner[0])
        rax = fig.add_subplot(inner[1], sharex=ax)
        _draw_one(ax, rax, res, labels, legend=i == 0)
    if title and n > 1:
        fig.suptitle(title, fontsize=10)
    out = Path(path)
    fig.savefig(out, format="png", facecolor="white")
    plt.close(fig)
    return out


def plot_histograms(
    results: Sequence[HistogramResult], outdir: str | Path, labels: tuple[str, str] = ("reference", "generated")
) -> list[tuple[str, Path]]:
    """A figure per feature family (``hist_<group>.png``); returns ``(group title, path)`` pairs."""
    out_dir = Path(outdir)
    groups: dict[str, list[HistogramResult]] = {}
    for r in results:
        groups.setdefault(r.spec.group, []).append(r)
    written = []
    for group, items in groups.items():
        title = _GROUP_TITLES.get(group, group)
        cols = 4 if group == "E_ratio_per_energy" else 6
        path = plot_histogram_group(items, out_dir / f"hist_{group}.png", title, labels, max_cols=cols)
        written.append((title, path))
    return written


def _image_norm(mean_ref: np.ndarray, mean_gen: np.ndarray) -> Any:
    colors = require("matplotlib.colors")
    vals = np.concatenate([mean_ref[mean_ref > 0], mean_gen[mean_gen > 0]])
    vmax = float(vals.max()) if vals.size else 1.0
    vmin = max(vmax * 1e-6, float(vals.min()) if vals.size else 1e-6)
    return colors.LogNorm(vmin=vmin, vmax=vmax)


def _ratio(mean_ref: np.ndarray, mean_gen: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mean_ref > 0, mean_gen / mean_ref, np.nan)


def plot_average_showers(
    mean_ref: np.ndarray,
    mean_gen: np.ndarray,
    geometry: Geometry,
    path: str | Path,
    labels: tuple[str, str] = ("reference", "generated"),
    dpi: int = 80,
    title: str = "Average shower per layer",
) -> Path:
    """Average shower per layer: reference, generated and generated / reference, saved as one PNG.

    ``title`` heads the figure (the per-incident-energy averages name their energy range there).

    Regular geometries are drawn as (alpha x r) images, three per layer; irregular ones (dataset 1) as
    polar annuli with a logarithmic radius, like the official ``HighLevelFeatures._DrawSingleLayer``.
    """
    plt = _pyplot()
    norm = _image_norm(mean_ref, mean_gen)
    ratio = _ratio(mean_ref, mean_gen)
    layers = geometry.binned_layers
    per_row = 5 if geometry.is_regular else 1
    rows = math.ceil(len(layers) / per_row)
    polar = not geometry.is_regular
    size = 1.6 if geometry.is_regular else 2.4
    fig = plt.figure(figsize=(3 * per_row * size, rows * size + 0.6), dpi=dpi)
    images = []
    for pos, layer in enumerate(layers):
        sl = geometry.layer_slice(pos)
        for k, (data, name) in enumerate(((mean_ref, labels[0]), (mean_gen, labels[1]), (ratio, "ratio"))):
            grid = np.asarray(data[sl], dtype=np.float64).reshape(layer.n_alpha, layer.n_r)
            idx = (pos // per_row) * 3 * per_row + (pos % per_row) * 3 + k + 1
            ax = fig.add_subplot(rows, 3 * per_row, idx, polar=polar)
            kw: dict[str, Any] = (
                {"cmap": "RdBu_r", "vmin": 0.5, "vmax": 1.5} if name == "ratio" else {"cmap": "viridis", "norm": norm}
            )
            masked = np.ma.masked_invalid(np.where(grid > 0, grid, np.nan) if name != "ratio" else grid)
            if polar:
                r_edges = np.asarray(layer.r_edges, dtype=np.float64)
                r_plot = np.log1p(r_edges)
                sub = max(1, 72 // layer.n_alpha)  # smooth arcs: split each alpha bin
                theta = np.linspace(-math.pi, math.pi, layer.n_alpha * sub + 1)
                im = ax.pcolormesh(theta, r_plot, np.repeat(masked, sub, axis=0).T, shading="flat", **kw)
                ax.set_xticks([])
                ax.set_yticks([])
            else:
                im = ax.imshow(masked, aspect="auto", origin="lower", interpolation="nearest", **kw)
                ax.set_xticks([])
                ax.set_yticks([])
            ax.set_title(f"L{layer.id} {name}", fontsize=6)
            if pos == 0:
                images.append(im)
    right = 0.86 if geometry.is_regular else 0.74
    fig.subplots_adjust(left=0.02, right=right, top=1 - 0.5 / (rows * size + 0.6), bottom=0.03)
    if images:
        cax = fig.add_axes((right + 0.025, 0.15, 0.012, 0.7))
        fig.colorbar(images[0], cax=cax).set_label("mean energy [MeV]", fontsize=7)
    if len(images) > 2:
        cax = fig.add_axes((right + 0.025 + (0.06 if geometry.is_regular else 0.12), 0.15, 0.012, 0.7))
        fig.colorbar(images[2], cax=cax).set_label("generated / reference", fontsize=7)
    fig.suptitle(
        title + (" (rows: alpha, columns: r)" if not polar else " (radius: log(1 + r/mm))"),
        fontsize=9,
    )
    out = Path(path)
    fig.savefig(out, format="png", facecolor="white")
    plt.close(fig)
    return out
