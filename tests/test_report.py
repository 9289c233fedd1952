"""The evaluation report: metrics.json, summary and a self-contained report.html that renders."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from calovq.data import write_showers
from calovq.evaluate.pipeline import evaluate_files
from calovq.evaluate.report import metric_rows, render_html, summary_text, to_json
from calovq.geometry import get_geometry

CHROMIUM = Path("/usr/bin/chromium")


def _sample(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    geo = get_geometry("tiny")
    rng = np.random.default_rng(seed)
    e = 10 ** np.random.default_rng(0).uniform(3, 4, n)
    profile = np.exp(-geo.voxel_r / 12.0) * (1 + geo.voxel_layer)
    s = rng.gamma(4.0, 0.25, (n, geo.n_voxels)) * profile / profile.sum() * e[:, None] * 0.9
    return e, s.astype(np.float32)


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("report")
    ref = write_showers(d / "ref.h5", *_sample(300, 1), "tiny")
    gen = write_showers(d / "gen.h5", *_sample(300, 2), "tiny")
    evaluate_files(gen, ref, "tiny", d / "out", metrics=("hist", "kpd"), progress=False)
    return d / "out"


def test_json_is_strict_and_nan_becomes_null() -> None:
    text = to_json({"a": float("nan"), "b": np.float32(1.5), "c": np.arange(2), "d": (float("inf"),)})
    assert json.loads(text) == {"a": None, "b": 1.5, "c": [0, 1], "d": [None]}


def test_metric_rows_and_summary(report_dir: Path) -> None:
    m = json.loads((report_dir / "metrics.json").read_text())
    rows = {name: (gen, floor) for name, gen, floor in metric_rows(m)}
    assert float(rows["mean separation power"][0]) == pytest.approx(
        m["generated_vs_reference"]["hist"]["summary"]["mean"], abs=1e-4
    )
    assert rows["KPD x 1e3"][0].endswith("(capped)")
    text = summary_text(m)
    assert len(text.splitlines()) < 30
    assert "reference floor" in text


def test_every_img_src_exists(report_dir: Path) -> None:
    page = (report_dir / "report.html").read_text()
    srcs = re.findall(r'<img[^>]*\ssrc="([^"]+)"', page)
    assert len(srcs) >= 10
    for src in srcs:
        assert not src.startswith(("http:", "https:", "/")), src
        assert (report_dir / src).is_file(), src
    # no external resources: no scripts, stylesheets or remote URLs
    assert "<script" not in page
    assert "<link" not in page
    assert "http://" not in page
    assert 'id="metrics"' in page


def test_render_html_escapes() -> None:
    result = {
        "dataset": "tiny",
        "generated": {"path": "<g>.h5", "n_events_used": 1, "n_events_file": 1},
        "reference": {"path": "r.h5", "n_events_used": 1, "n_events_file": 1},
        "warnings": ["a < b & c"],
    }
    page = render_html(result, [("cap <x>", "plots/a b.png")])
    assert "&lt;g&gt;.h5" in page
    assert "a &lt; b &amp; c" in page
    assert "cap &lt;x&gt;" in page


def test_report_renders_in_headless_chromium(report_dir: Path, tmp_path: Path) -> None:
    if not CHROMIUM.exists() or shutil.which("chromium") is None:
        pytest.skip("chromium not installed; .ci/run installs it (Debian packages chromium, chromium-driver)")
    flags = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    url = (report_dir / "report.html").resolve().as_uri()
    shot = tmp_path / "shot.png"
    subprocess.run(
        [*flags, f"--screenshot={shot}", "--window-size=1200,2000", url],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert shot.is_file(), "chromium wrote no screenshot"
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000
    dom = subprocess.run([*flags, "--dump-dom", url], capture_output=True, timeout=120, check=False, text=True)
    assert 'id="metrics"' in dom.stdout
    assert "mean separation power" in dom.stdout
