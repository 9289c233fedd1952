"""Simulator API, files and command line: determinism, worker independence, format, CLI round trip."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from calovq.cli.main import main
from calovq.data.calochallenge import ShowerFile
from calovq.exceptions import ConfigError, EnergyRangeError, GeometryError, OutputExistsError
from calovq.geometry import Geometry, Layer, get_geometry
from calovq.simulate import SimConfig, simulate, simulate_to_file


def test_deterministic_for_a_seed():
    e1, s1 = simulate("tiny", 50, 3)
    e2, s2 = simulate("tiny", 50, 3)
    _e3, s3 = simulate("tiny", 50, 4)
    np.testing.assert_array_equal(e1, e2)
    np.testing.assert_array_equal(s1, s2)
    assert not np.array_equal(s1, s3)
    assert s1.dtype == np.float32
    assert s1.shape == (50, 360)


def test_file_independent_of_worker_count(tmp_path):
    kw = {"geometry": "tiny", "n": 90, "seed": 7, "chunk_size": 20, "progress": False}
    one = simulate_to_file(tmp_path / "one.h5", workers=1, **kw)
    two = simulate_to_file(tmp_path / "two.h5", workers=2, **kw)
    e_mem, s_mem = simulate("tiny", 90, 7, chunk_size=20)
    with ShowerFile(one) as f1, ShowerFile(two) as f2:
        e1, s1 = f1.read()
        e2, s2 = f2.read()
    np.testing.assert_array_equal(s1, s2)
    np.testing.assert_array_equal(e1, e2)
    np.testing.assert_array_equal(s1, s_mem)
    np.testing.assert_array_equal(e1, e_mem)


@pytest.mark.parametrize(("dataset", "n"), [("1-photons", 40), ("1-pions", 40), ("2", 20), ("3", 4), ("tiny", 40)])
def test_valid_files_for_every_dataset(tmp_path, dataset, n):
    path = simulate_to_file(tmp_path / f"{dataset}.h5", dataset, n, seed=1, workers=1, progress=False)
    geo = get_geometry(dataset)
    with ShowerFile(path) as f:
        assert f.geometry.name == geo.name
        e, s = f.read()  # validates shape, finiteness, non-negativity
        attrs = f.attrs
    assert len(e) == n
    assert s.shape == (n, geo.n_voxels)
    assert (s.sum(axis=1) > 0).mean() > 0.9
    assert attrs["seed"] == 1
    assert attrs["generator"] == "calovq.simulate"
    assert SimConfig.from_attrs(attrs) == SimConfig()
    with h5py.File(path) as h5:  # what the official evaluate.py reads
        assert h5["incident_energies"].shape == (n, 1)
        assert h5["showers"].shape == (n, geo.n_voxels)
        assert h5["showers"].compression == "gzip"


def test_fixed_energies_cycle():
    e, _ = simulate("tiny", 5, 0, energies=[1000.0, 5000.0])
    np.testing.assert_array_equal(e, [1000.0, 5000.0, 1000.0, 5000.0, 1000.0])


@pytest.mark.parametrize("bad", [[], [50.0], [float("nan")], [2e7]])
def test_bad_energies_raise(bad):
    with pytest.raises(EnergyRangeError):
        simulate("tiny", 3, 0, energies=bad)


def test_bad_inputs_raise_specific_errors(tmp_path):
    with pytest.raises(GeometryError):
        simulate("ds9", 3, 0)
    irregular_electrons = Geometry("odd", (Layer(0, (0.0, 1.0), 1), Layer(1, (0.0, 2.0, 3.0), 2)))
    with pytest.raises(GeometryError):
        simulate(irregular_electrons, 3, 0)
    with pytest.raises(ConfigError):
        simulate("tiny", 0, 0)
    with pytest.raises(ConfigError):
        simulate("tiny", 3, -1)
    with pytest.raises(ConfigError):
        SimConfig().replace(stochastic=0.1)
    with pytest.raises(ConfigError):
        SimConfig(stochastic_term=-0.1)
    with pytest.raises(ConfigError):
        simulate_to_file(tmp_path / "x.h5", "tiny", 3, 0, workers=0, progress=False)


def test_refuses_to_overwrite(tmp_path):
    path = tmp_path / "s.h5"
    simulate_to_file(path, "tiny", 5, 0, workers=1, progress=False)
    before = path.read_bytes()
    with pytest.raises(OutputExistsError):
        simulate_to_file(path, "tiny", 5, 1, workers=1, progress=False)
    assert path.read_bytes() == before
    simulate_to_file(path, "tiny", 6, 1, workers=1, progress=False, overwrite=True)
    with ShowerFile(path) as f:
        assert len(f) == 6


def test_cli_round_trip(tmp_path, capsys):
    out = tmp_path / "cli.h5"
    argv = ["simulate", "--dataset", "tiny", "-n", "30", "--seed", "5", "-o", str(out), "--no-progress"]
    assert main([*argv, "--workers", "1", "--energies", "1000,20000", "--stochastic-term", "0.2"]) == 0
    assert "wrote 30 showers" in capsys.readouterr().out
    with ShowerFile(out) as f:
        e, s = f.read()
        assert SimConfig.from_attrs(f.attrs).stochastic_term == 0.2
    assert set(e) == {1000.0, 20000.0}
    _e_api, s_api = simulate("tiny", 30, 5, energies=[1000, 20000], config=SimConfig(stochastic_term=0.2))
    np.testing.assert_array_equal(s, s_api)
    # refusing to overwrite: exit status 2 and a one-line error
    assert main([*argv, "--workers", "1"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main([*argv, "--workers", "1", "--overwrite"]) == 0


def test_cli_rejects_bad_energies(tmp_path, capsys):
    argv = ["simulate", "-d", "tiny", "-n", "3", "-o", str(tmp_path / "b.h5"), "--energies", "1,2", "--no-progress"]
    assert main(argv) == 2
    assert "outside the simulator's range" in capsys.readouterr().err
    assert not (tmp_path / "b.h5").exists()


def test_bench_cli(capsys):
    assert main(["bench", "simulate", "--dataset", "tiny", "-n", "40", "--workers", "1"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "showers/s" in lines[0]
    record = json.loads(lines[1])
    assert record["n"] == 40
    assert record["showers_per_s"] > 0
    assert record["peak_rss_mb"] > 0
