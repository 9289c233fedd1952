from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from calovq import __version__
from calovq.cli.main import main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    out = capsys.readouterr().out
    for command in ("info", "geometry", "download", "simulate", "evaluate", "demo", "bench"):
        assert command in out


def test_unknown_geometry_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["geometry", "ds9"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [err[0]]
    assert err[0].startswith("calovq: error: unknown geometry 'ds9'")


def _one_error_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """Run ``calovq argv``; assert exit status 2 and exactly one ``calovq: error:`` line; return it."""
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("calovq: error: ")
    return err[0]


@pytest.fixture
def shower_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.h5"
    assert main(["simulate", "-d", "tiny", "-n", "20", "-o", str(path), "--no-progress"]) == 0
    return path


def test_output_that_is_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    line = _one_error_line(capsys, ["simulate", "-d", "tiny", "-n", "5", "-o", str(folder), "--overwrite"])
    assert "is a directory" in line
    line = _one_error_line(capsys, ["geometry", "tiny", "--xml", str(folder), "--overwrite"])
    assert "is a directory" in line
    assert list(folder.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir()] == ["folder"]  # no temporary file left behind


def test_output_folder_blocked_by_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    line = _one_error_line(capsys, ["simulate", "-d", "tiny", "-n", "5", "-o", str(blocker / "x.h5")])
    assert "not a directory" in line.lower()
    line = _one_error_line(capsys, ["geometry", "tiny", "--xml", str(blocker / "x.xml")])
    assert "not a directory" in line.lower()
    line = _one_error_line(capsys, ["demo", "--out", str(blocker / "sub"), "-n", "10", "--no-progress"])
    assert "not a directory" in line.lower()


def test_input_that_is_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "is a directory" in _one_error_line(capsys, ["info", str(tmp_path)])


def test_evaluate_bad_device_and_outdir(shower_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["evaluate", str(shower_file), str(shower_file), "-d", "tiny", "--no-progress"]
    line = _one_error_line(capsys, [*base, "-o", str(tmp_path / "o"), "--metrics", "cls-low", "--device", "bogus"])
    assert "unknown torch device 'bogus'" in line
    assert not (tmp_path / "o").exists()
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    line = _one_error_line(capsys, [*base, "-o", str(blocker / "sub"), "--metrics", "hist"])
    assert "not a directory" in line.lower()


def test_demo_rejects_bad_sizes_before_simulating(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    assert "at least 4 events" in _one_error_line(capsys, ["demo", "--out", str(out), "-n", "-1"])
    assert "1 classifier epoch" in _one_error_line(capsys, ["demo", "--out", str(out), "--epochs", "0"])
    assert not out.exists()


def test_simulate_rejects_bad_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "x.h5")
    assert "number of showers" in _one_error_line(capsys, ["simulate", "-d", "tiny", "-n", "-3", "-o", out])
    assert "workers" in _one_error_line(capsys, ["simulate", "-d", "tiny", "-n", "3", "-o", out, "--workers", "0"])
    assert not (tmp_path / "x.h5").exists()


def _sigterm_once_started(args: list[str], started: Callable[[], bool]) -> tuple[int, str]:
    """Run ``calovq ARGS`` in a subprocess, send SIGTERM once ``started()`` holds; return (rc, stderr)."""
    cmd = [sys.executable, "-m", "calovq.cli.main", *args, "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not started():
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, f"calovq {args[0]} never started"
            time.sleep(0.1)
        time.sleep(1.0)
        os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, err


@pytest.mark.slow
def test_sigterm_removes_temporary_files(tmp_path: Path) -> None:
    """A killed evaluation leaves no temporary folder (with its memmaps) and no partial outputs behind."""
    from calovq.simulate import simulate_to_file

    for name, seed in (("ref.h5", 1), ("gen.h5", 2)):
        simulate_to_file(tmp_path / name, "tiny", 1500, seed, workers=1, progress=False)
    out = tmp_path / "out"
    args = [
        "evaluate",
        str(tmp_path / "gen.h5"),
        str(tmp_path / "ref.h5"),
        "-d",
        "tiny",
        "-o",
        str(out),
        "--epochs",
        "500",
        "--metrics",
        "cls-low",
    ]
    rc, err = _sigterm_once_started(args, lambda: bool(list(tmp_path.glob(".calovq-evaluate-*"))))
    assert rc == 130, f"rc {rc}: {err}"
    assert "interrupted" in err
    assert not list(tmp_path.glob(".calovq-evaluate-*"))
    assert not (out / "metrics.json").exists()


@pytest.mark.slow
def test_sigterm_stops_a_parallel_simulation(tmp_path: Path) -> None:
    """The stop request reaches the writer even when the main thread waits on the process pool."""
    args = ["simulate", "-d", "2", "-n", "200000", "-o", str(tmp_path / "big.h5"), "--workers", "2"]
    rc, err = _sigterm_once_started(args, lambda: bool(list(tmp_path.glob(".big.h5.*.partial"))))
    assert rc == 130, f"rc {rc}: {err}"
    assert sorted(p.name for p in tmp_path.iterdir()) == []
