from __future__ import annotations

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
