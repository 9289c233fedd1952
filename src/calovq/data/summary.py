"""Streaming summary statistics of a shower file (what ``calovq info`` prints)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from calovq.data.calochallenge import ShowerFile
from calovq.geometry import Geometry

__all__ = ["FileSummary", "summarize"]


@dataclass(frozen=True)
class FileSummary:
    """Summary of a validated CaloChallenge file.

    Attributes:
        path: the file.
        geometry: name of the geometry the voxel count matches.
        n_events, n_voxels: sizes.
        e_inc_min, e_inc_max: incident energy range (MeV); ``n_distinct_energies`` counts distinct values
            (15 for dataset 1, ~N for the continuous datasets).
        e_tot_*: total deposited energy per shower (MeV).
        ratio_mean, ratio_std: E_tot / E_inc.
        empty_fraction: fraction of voxels exactly 0; ``below_threshold_fraction`` adds the voxels
            below the geometry's evaluation threshold.
        max_voxel: largest voxel energy (MeV).
    """

    path: str
    geometry: str
    n_events: int
    n_voxels: int
    e_inc_min: float
    e_inc_max: float
    n_distinct_energies: int
    e_tot_mean: float
    e_tot_std: float
    e_tot_min: float
    e_tot_max: float
    ratio_mean: float
    ratio_std: float
    empty_fraction: float
    below_threshold_fraction: float
    max_voxel: float
    threshold_mev: float

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    def to_text(self) -> str:
        """A short human-readable block."""
        return "\n".join(
            [
                f"file            {self.path}",
                f"geometry        {self.geometry} ({self.n_voxels} voxels)",
                f"events          {self.n_events}",
                f"incident energy {self.e_inc_min:.6g} .. {self.e_inc_max:.6g} MeV"
                f" ({self.n_distinct_energies} distinct values)",
                f"E_tot [MeV]     mean {self.e_tot_mean:.6g}  std {self.e_tot_std:.6g}"
                f"  min {self.e_tot_min:.6g}  max {self.e_tot_max:.6g}",
                f"E_tot/E_inc     mean {self.ratio_mean:.4f}  std {self.ratio_std:.4f}",
                f"empty voxels    {100 * self.empty_fraction:.2f}% exactly zero,"
                f" {100 * self.below_threshold_fraction:.2f}% below {self.threshold_mev:.4g} MeV",
                f"max voxel       {self.max_voxel:.6g} MeV",
            ]
        )


def summarize(
    path: str | Path,
    geometry: str | Geometry | None = None,
    chunk_rows: int | None = None,
    progress: bool = False,
) -> FileSummary:
    """Validate every block of ``path`` and accumulate its summary in one streaming pass.

    Raises:
        DataFormatError: on any format or value problem (see :class:`~calovq.data.ShowerFile`).
    """
    with ShowerFile(path, geometry) as f:
        thr = f.geometry.threshold_mev
        n = 0
        s1 = s2 = r1 = r2 = 0.0
        tmin, tmax, vmax = math.inf, -math.inf, 0.0
        zeros = below = 0
        energies = []
        for e, s in f.iter_chunks(progress="info" if progress else False):
            tot = s.sum(axis=1, dtype=np.float64)
            ratio = tot / e
            n += len(e)
            s1 += float(tot.sum())
            s2 += float((tot**2).sum())
            r1 += float(ratio.sum())
            r2 += float((ratio**2).sum())
            if len(e):
                tmin, tmax = min(tmin, float(tot.min())), max(tmax, float(tot.max()))
                vmax = max(vmax, float(s.max()))
            zeros += int(np.count_nonzero(s == 0))
            below += int(np.count_nonzero(s < thr))
            energies.append(e)
        all_e = np.concatenate(energies) if energies else np.zeros(0)
        n_cells = max(1, n * f.n_voxels)

        def _std(a: float, b: float) -> float:
            return math.sqrt(max(b / n - (a / n) ** 2, 0.0)) if n else math.nan

        return FileSummary(
            path=str(f.path),
            geometry=f.geometry.name,
            n_events=n,
            n_voxels=f.n_voxels,
            e_inc_min=float(all_e.min()) if n else math.nan,
            e_inc_max=float(all_e.max()) if n else math.nan,
            n_distinct_energies=int(np.unique(all_e).size),
            e_tot_mean=s1 / n if n else math.nan,
            e_tot_std=_std(s1, s2),
            e_tot_min=tmin if n else math.nan,
            e_tot_max=tmax if n else math.nan,
            ratio_mean=r1 / n if n else math.nan,
            ratio_std=_std(r1, r2),
            empty_fraction=zeros / n_cells,
            below_threshold_fraction=below / n_cells,
            max_voxel=vmax,
            threshold_mev=thr,
        )


def plot_summary(path: str | Path, out_png: str | Path, geometry: str | Geometry | None = None) -> Path:
    """Draw a 2x2 overview of a shower file into ``out_png`` (written atomically).

    Panels: E_tot/E_inc, the mean longitudinal profile (energy per layer), the average shower of the
    layer with the most energy (alpha x r), and the voxel-energy spectrum with the evaluation threshold.
    """
    from calovq._optional import require
    from calovq.data.atomic import atomic_path

    require("matplotlib").use("Agg")
    plt = require("matplotlib.pyplot")

    with ShowerFile(path, geometry) as f:
        geo = f.geometry
        ratios, layer_sum, voxel_sum = [], np.zeros(geo.n_layers), np.zeros(geo.n_voxels)
        spec_edges = np.logspace(-4, 6, 101)
        spec = np.zeros(100)
        n = 0
        for e, s in f.iter_chunks():
            tot = s.sum(axis=1, dtype=np.float64)
            ratios.append(tot / e)
            for i in range(geo.n_layers):
                layer_sum[i] += s[:, geo.layer_slice(i)].sum(dtype=np.float64)
            voxel_sum += s.sum(axis=0, dtype=np.float64)
            spec += np.histogram(s[s > 0], bins=spec_edges)[0]
            n += len(e)
    ratio = np.concatenate(ratios)
    fig, ax = plt.subplots(2, 2, figsize=(11, 8.5))
    ax[0, 0].hist(ratio, bins=np.linspace(0, max(1.5, float(np.quantile(ratio, 0.999))), 80), color="C0")
    ax[0, 0].set(xlabel="E_tot / E_inc", ylabel="showers", title=f"{n} showers, geometry {geo.name}")
    ax[0, 1].step(np.arange(geo.n_layers), layer_sum / max(n, 1), where="mid", color="C1")
    ax[0, 1].set(xlabel="layer id", ylabel="mean energy [MeV]", yscale="log", title="longitudinal profile")
    step = max(1, geo.n_layers // 10)
    ticks = np.arange(0, geo.n_layers, step)
    ax[0, 1].set_xticks(ticks, [str(geo.layer_ids[i]) for i in ticks])
    best = int(np.argmax(layer_sum))
    layer = geo.binned_layers[best]
    img = (voxel_sum[geo.layer_slice(best)] / max(n, 1)).reshape(layer.n_alpha, layer.n_r)
    im = ax[1, 0].imshow(
        np.log10(img + 1e-6),
        aspect="auto",
        origin="lower",
        cmap="viridis",
        extent=(0, layer.n_r, -np.pi, np.pi),
    )
    fig.colorbar(im, ax=ax[1, 0], label="log10 mean energy [MeV]")
    ax[1, 0].set(xlabel="r bin", ylabel="alpha [rad]", title=f"average shower, layer {layer.id}")
    ax[1, 1].stairs(spec, spec_edges, color="C2")
    ax[1, 1].axvline(geo.threshold_mev, color="k", ls="--", lw=1, label="evaluation threshold")
    ax[1, 1].set(xscale="log", yscale="log", xlabel="voxel energy [MeV]", ylabel="voxels", title="voxel spectrum")
    ax[1, 1].legend()
    fig.tight_layout()
    out = Path(out_png)
    with atomic_path(out, overwrite=True) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return out
