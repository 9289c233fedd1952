"""``calovq evaluate`` end to end, in-process, on small synthetic files."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from calovq.cli.main import main
from calovq.data import write_showers
from calovq.geometry import get_geometry

FAST = ["--epochs", "3", "--classifier-width", "32", "--no-progress"]


def synthetic(geometry: str, n: int, seed: int, scale: float = 1.0, spread: float = 1.0):
    """Exponential radial profiles growing with depth; ``scale`` shifts energies, ``spread`` widths."""
    geo = get_geometry(geometry)
    rng = np.random.default_rng(seed)
    if geo.discrete_energies_mev:
        e = np.random.default_rng(0).choice(np.array(geo.discrete_energies_mev[:8]), n)
    else:
        e = 10 ** np.random.default_rng(0).uniform(3, 4.5, n)
    profile = np.exp(-geo.voxel_r / (12.0 * spread)) * (1 + geo.voxel_layer)
    profile /= profile.sum()
    s = rng.gamma(4.0, 0.25, (n, geo.n_voxels)) * profile * e[:, None] * 0.9 * scale
    s[rng.random(s.shape) < 0.2] = 0
    return e, s.astype(np.float32)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("evaluate")
    out = {
        "ref": write_showers(d / "ref.h5", *synthetic("tiny", 1200, 1), "tiny"),
        "gen": write_showers(d / "gen.h5", *synthetic("tiny", 1200, 2), "tiny"),
        "bad": write_showers(d / "bad.h5", *synthetic("tiny", 1200, 3, scale=0.7, spread=1.6), "tiny"),
    }
    return out


def test_cli_writes_all_outputs(files, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    # every metric; the plots are covered by test_dataset1_photons and tests/test_report.py
    args = ["evaluate", str(files["gen"]), str(files["ref"]), "--dataset", "tiny", "-o", str(out)]
    rc = main([*args, *FAST, "--no-plots"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "mean separation power" in printed
    assert "AUC low-level" in printed
    m = json.loads((out / "metrics.json").read_text())
    gen, floor = m["generated_vs_reference"], m["reference_floor"]
    for section in (gen, floor):
        for key in ("hist", "fpd", "kpd", "prdc", "cls-low", "cls-high"):
            assert key in section, key
    assert m["settings"]["classifier_epochs"] == 3
    assert m["generated"]["n_events_used"] == 1200
    assert floor["n_per_half"] == 600
    assert gen["fpd"]["capped"]
    assert 0 <= gen["prdc"]["precision"] <= 1
    assert 0.3 < gen["cls-low"]["auc_mean"] < 0.75
    assert (out / "summary.txt").read_text().startswith("calovq evaluate")
    assert (out / "report.html").is_file()
    assert m["plots"] == []
    assert not list(out.parent.glob(".calovq-evaluate-*")), "temporary memmaps left behind"


def _run(gen: Path, ref: Path, out: Path) -> dict:
    args = ["evaluate", str(gen), str(ref), "-d", "tiny", "-o", str(out), "--no-floor", "--no-plots"]
    fast = ["--epochs", "100", "--classifier-width", "64", "--no-progress"]  # 200 Adam steps
    assert main([*args, "--metrics", "hist", "cls-high", "kpd", *fast]) == 0
    return json.loads((out / "metrics.json").read_text())["generated_vs_reference"]


def test_distorted_copy_is_flagged(files, tmp_path) -> None:
    good = _run(files["gen"], files["ref"], tmp_path / "good")
    bad = _run(files["bad"], files["ref"], tmp_path / "bad")
    s_good = good["hist"]["summary"]["mean"]
    s_bad = bad["hist"]["summary"]["mean"]
    assert s_bad > 3 * s_good
    assert s_bad > 0.1
    assert bad["hist"]["per_histogram"]["E_ratio"]["separation_power"] > 0.5
    assert bad["cls-high"]["auc_mean"] > 0.7
    assert bad["cls-high"]["auc_mean"] > good["cls-high"]["auc_mean"] + 0.2
    assert bad["kpd"]["value"] > 10 * max(good["kpd"]["value"], 1e-6)


def test_dataset1_photons(tmp_path) -> None:
    ref = write_showers(tmp_path / "r.h5", *synthetic("1-photons", 400, 1), "1-photons")
    gen = write_showers(tmp_path / "g.h5", *synthetic("1-photons", 400, 2), "1-photons")
    out = tmp_path / "o"
    args = ["evaluate", str(gen), str(ref), "--dataset", "1-photons", "-o", str(out), *FAST]
    assert main([*args, "--metrics", "hist", "fpd", "cls-high"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    per = m["generated_vs_reference"]["hist"]["per_histogram"]
    assert "E_ratio_E256" in per
    assert "EC_eta_1" in per
    assert "EC_eta_3" not in per
    pngs = {p.name for p in (out / "plots").glob("*.png")}
    assert {"average_shower.png", "hist_E_ratio_per_energy.png", "hist_E_layer.png", "hist_voxel.png"} <= pngs
    assert {f"plots/{p}" for p in pngs} == set(m["plots"])
    # one average per discrete incident energy present in both files (the first 8 of 2^8 ... 2^22 MeV)
    per_energy = sorted(p for p in pngs if p.startswith("average_shower_E_"))
    assert per_energy == sorted(f"average_shower_E_{2**k}MeV.png" for k in range(8, 16))
    assert 'src="plots/hist_E_ratio.png"' in (out / "report.html").read_text()
    assert m["settings"]["threshold_mev"] == 1.0


def _error(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("calovq: error: ")
    return err[0]


def test_bad_inputs_exit_2(files, tmp_path, capsys) -> None:
    out = str(tmp_path / "o")
    msg = _error(capsys, ["evaluate", str(files["gen"]), str(files["ref"]), "-d", "2", "-o", out, *FAST])
    assert "360 voxels" in msg
    assert "6480" in msg
    msg = _error(capsys, ["evaluate", str(tmp_path / "nope.h5"), str(files["ref"]), "-d", "tiny", "-o", out])
    assert "no such file" in msg
    nan_file = tmp_path / "nan.h5"
    e, s = synthetic("tiny", 50, 5)
    with h5py.File(nan_file, "w") as f:
        e_bad = e.copy()
        e_bad[7] = np.nan
        f["incident_energies"] = e_bad[:, None]
        f["showers"] = s
    msg = _error(capsys, ["evaluate", str(nan_file), str(files["ref"]), "-d", "tiny", "-o", out, *FAST])
    assert "nan" in msg.lower()
    assert not (tmp_path / "o" / "metrics.json").exists()
    # existing outputs are kept unless --overwrite
    done = tmp_path / "done"
    base = ["evaluate", str(files["gen"]), str(files["ref"]), "-d", "tiny", "-o", str(done), "--no-floor", "--no-plots"]
    assert main([*base, "--metrics", "hist", "--no-progress"]) == 0
    before = (done / "metrics.json").read_text()
    msg = _error(capsys, [*base, "--metrics", "hist", "--no-progress"])
    assert "already exists" in msg
    assert "--overwrite" in msg
    assert (done / "metrics.json").read_text() == before
    assert main([*base, "--metrics", "hist", "--no-progress", "--overwrite"]) == 0
    msg = _error(capsys, [*base, "--metrics", "hist", "cls-resnet", "-d", "1-photons", "--overwrite"])
    assert "voxels" in msg or "cls-resnet" in msg


def test_resnet_classifier_through_the_pipeline(files, tmp_path) -> None:
    out = tmp_path / "cnn"
    args = ["evaluate", str(files["gen"]), str(files["ref"]), "--dataset", "tiny", "-o", str(out)]
    assert main([*args, "--metrics", "cls-resnet", "--no-floor", "--no-plots", *FAST]) == 0
    m = json.loads((out / "metrics.json").read_text())
    auc = m["generated_vs_reference"]["cls-resnet"]["auc_mean"]
    assert 0.0 <= auc <= 1.0
    # the CNN needs a regular (layer, alpha, r) grid: dataset 1 is refused with a one-line error
    photons = write_showers(tmp_path / "p.h5", *synthetic("1-photons", 50, 1), "1-photons")
    rc = main(
        [
            "evaluate",
            str(photons),
            str(photons),
            "-d",
            "1-photons",
            "-o",
            str(tmp_path / "p"),
            "--metrics",
            "cls-resnet",
            *FAST,
        ]
    )
    assert rc == 2
