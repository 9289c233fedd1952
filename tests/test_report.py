"""The evaluation report: metrics.json, summary and a self-contained report.html that renders."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

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


def test_average_showers_per_incident_energy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Per-range means from the streaming pass equal numpy on the whole file; empty ranges are skipped."""
    import calovq.evaluate.plots as plots_mod
    from calovq.evaluate.pipeline import average_energy_ranges, energy_range_index

    geo = get_geometry("tiny")
    profile = (1.0 + np.arange(geo.n_voxels) / geo.n_voxels).astype(np.float32)  # all above threshold
    # reference: 1e3 <= E < 1e4 -> 1 x profile, 1e4 <= E < 1e5 -> 3 x profile; generated: only the first
    # decade (2 x profile, 4 x profile alternating), plus one event below 1e3 that belongs to no range.
    e_ref = np.array([2e3, 5e3, 2e4, 3e4, 4e4, 7e3] * 5)
    s_ref = np.where((e_ref < 1e4)[:, None], 1.0, 3.0) * profile
    e_gen = np.array([2e3, 3e3, 4e3, 6e3, 500.0] * 4)
    s_gen = np.where((np.arange(len(e_gen)) % 2 == 0)[:, None], 2.0, 4.0) * profile
    s_gen[e_gen < 1e3] = 100.0
    ref = write_showers(tmp_path / "ref.h5", e_ref, s_ref.astype(np.float32), "tiny")
    gen = write_showers(tmp_path / "gen.h5", e_gen, s_gen.astype(np.float32), "tiny")
    seen: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    original = plots_mod.plot_average_showers

    def spy(mean_ref: np.ndarray, mean_gen: np.ndarray, geometry: Any, path: Any, **kw: Any) -> Path:
        seen[Path(path).name] = (np.array(mean_ref), np.array(mean_gen))
        return original(mean_ref, mean_gen, geometry, path, **kw)

    monkeypatch.setattr(plots_mod, "plot_average_showers", spy)
    out = tmp_path / "out"
    evaluate_files(gen, ref, "tiny", out, metrics=(), reference_floor=False, progress=False, chunk_rows=7)

    ranges = average_energy_ranges(geo)
    assert [r.label for r in ranges] == ["1e3-1e4MeV", "1e4-1e5MeV", "1e5-1e6MeV"]
    np.testing.assert_array_equal(
        energy_range_index(np.array([999.0, 1e3, 1e4, 1e6, 1.1e6]), ranges), [-1, 0, 1, 2, -1]
    )
    # only the first decade has events in both samples
    assert sorted(k for k in seen if k.startswith("average_shower_E_")) == ["average_shower_E_1e3-1e4MeV.png"]
    m_ref, m_gen = seen["average_shower_E_1e3-1e4MeV.png"]
    np.testing.assert_allclose(m_ref, profile, rtol=1e-6)  # by hand: 1 x profile
    np.testing.assert_allclose(m_gen, 3.0 * profile, rtol=1e-6)  # by hand: mean of 2 and 4
    in_ref, in_gen = (e_ref >= 1e3) & (e_ref < 1e4), (e_gen >= 1e3) & (e_gen < 1e4)
    np.testing.assert_allclose(m_ref, s_ref[in_ref].mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(m_gen, s_gen[in_gen].mean(axis=0), rtol=1e-6)
    # the overall average is unchanged: every event, including the one outside all ranges
    np.testing.assert_allclose(seen["average_shower.png"][1], s_gen.mean(axis=0), rtol=1e-6)

    m = json.loads((out / "metrics.json").read_text())
    assert "plots/average_shower_E_1e3-1e4MeV.png" in m["plots"]
    assert not any("1e4-1e5" in p or "1e5-1e6" in p for p in m["plots"])
    assert (out / "plots" / "average_shower_E_1e3-1e4MeV.png").is_file()
    page = (out / "report.html").read_text()
    assert "Average showers per incident energy" in page
    srcs = re.findall(r'<img[^>]*\ssrc="([^"]+)"', page)
    assert "plots/average_shower_E_1e3-1e4MeV.png" in srcs
    for src in srcs:
        assert (out / src).is_file(), src
    assert not list(out.glob(".plots.*"))


def test_no_plots_skips_per_energy_averages(tmp_path: Path) -> None:
    ref = write_showers(tmp_path / "ref.h5", *_sample(20, 1), "tiny")
    gen = write_showers(tmp_path / "gen.h5", *_sample(20, 2), "tiny")
    evaluate_files(gen, ref, "tiny", tmp_path / "o", metrics=(), reference_floor=False, progress=False, plots=False)
    assert not (tmp_path / "o" / "plots").exists()
    assert "Average showers per incident energy" not in (tmp_path / "o" / "report.html").read_text()
