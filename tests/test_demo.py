"""The main job (``make demo`` -> ``calovq demo``) end to end on the tiny geometry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from calovq.cli.main import main
from calovq.data import ShowerFile


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    args = ["demo", "--out", str(out), "--dataset", "tiny", "-n", "300", "--epochs", "2", "--workers", "1"]
    assert main([*args, "--no-progress"]) == 0
    assert f"report: {out / 'evaluation' / 'report.html'}" in capsys.readouterr().out
    with ShowerFile(out / "reference_dstiny.h5") as f:
        assert len(f) == 300
        assert f.geometry.name == "tiny"
    metrics = json.loads((out / "evaluation" / "metrics.json").read_text())
    assert "generated" in json.dumps(metrics)
    assert (out / "summary.png").stat().st_size > 10_000
    assert "E_tot/E_inc" in (out / "summary.txt").read_text()
    # a second run must not silently replace the outputs
    assert main([*args, "--no-progress"]) == 2
    assert "already exists" in capsys.readouterr().err
