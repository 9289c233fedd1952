"""The main job on the embedded default data: simulate -> evaluate -> report.

Until the generative model lands (later issues add train -> generate between the two), the "generated"
sample is a second, independent simulator sample with another seed, so the report shows the
reference floor: what "indistinguishable" looks like for this sample size.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from calovq.data.atomic import atomic_write_text, check_output, ensure_directory
from calovq.data.summary import plot_summary, summarize
from calovq.exceptions import ConfigError
from calovq.geometry import get_geometry

__all__ = ["DemoConfig", "run_demo"]


@dataclass
class DemoConfig:
    """Settings of the demo job (written to ``demo_config.json`` in the output folder)."""

    out: str = "demo_output"
    dataset: str = "2"
    n_events: int = 3000
    seed: int = 1
    workers: int | None = None
    classifier_epochs: int = 10
    metrics: tuple[str, ...] = ("hist", "fpd", "kpd", "prdc", "cls-low", "cls-high")
    overwrite: bool = False
    progress: bool = True
    timings_s: dict[str, float] = field(default_factory=dict)


def _log(msg: str) -> None:
    import sys

    print(f"[calovq demo] {msg}", file=sys.stderr, flush=True)  # noqa: T201


def run_demo(cfg: DemoConfig) -> dict[str, object]:
    """Run the demo; returns a dict of output paths and headline numbers.

    Raises:
        ConfigError: fewer than 4 events or fewer than 1 classifier epoch.
        OutputExistsError: outputs exist and ``cfg.overwrite`` is False.
    """
    from calovq.evaluate.pipeline import evaluate_files
    from calovq.simulate import simulate_to_file

    if cfg.n_events < 4 or cfg.classifier_epochs < 1:
        msg = f"the demo needs at least 4 events and 1 classifier epoch, got {cfg.n_events} and {cfg.classifier_epochs}"
        raise ConfigError(msg)
    geo = get_geometry(cfg.dataset)
    out = Path(cfg.out)
    ref_path, gen_path = out / f"reference_ds{geo.name}.h5", out / f"generated_ds{geo.name}.h5"
    eval_dir = out / "evaluation"
    for p in (ref_path, gen_path, out / "summary.txt", out / "summary.png"):
        check_output(p, cfg.overwrite)
    ensure_directory(out)

    t0 = time.perf_counter()
    _log(f"simulating {cfg.n_events} reference showers of dataset {geo.name} (seed {cfg.seed})")
    simulate_to_file(
        ref_path,
        geo,
        cfg.n_events,
        seed=cfg.seed,
        overwrite=cfg.overwrite,
        workers=cfg.workers,
        progress=cfg.progress,
    )
    _log(f"simulating {cfg.n_events} stand-in 'generated' showers (seed {cfg.seed + 1}); no model yet")
    simulate_to_file(
        gen_path,
        geo,
        cfg.n_events,
        seed=cfg.seed + 1,
        overwrite=cfg.overwrite,
        workers=cfg.workers,
        progress=cfg.progress,
    )
    cfg.timings_s["simulate"] = time.perf_counter() - t0

    summary = summarize(ref_path)
    atomic_write_text(out / "summary.txt", summary.to_text() + "\n", overwrite=cfg.overwrite)
    plot_summary(ref_path, out / "summary.png")
    _log("summary:\n" + summary.to_text())

    t0 = time.perf_counter()
    _log(f"evaluating generated vs reference -> {eval_dir}")
    metrics = evaluate_files(
        gen_path,
        ref_path,
        geo,
        eval_dir,
        metrics=cfg.metrics,
        overwrite=cfg.overwrite,
        classifier_epochs=cfg.classifier_epochs,
        progress=cfg.progress,
    )
    cfg.timings_s["evaluate"] = time.perf_counter() - t0
    atomic_write_text(out / "demo_config.json", json.dumps(asdict(cfg), indent=2) + "\n", overwrite=True)
    report = eval_dir / "report.html"
    _log(f"done: open {report}")
    return {"reference": ref_path, "generated": gen_path, "report": report, "metrics": metrics}
