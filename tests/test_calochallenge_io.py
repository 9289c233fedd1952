from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from calovq.cli.main import main
from calovq.data import ShowerFile, ShowerWriter, write_showers
from calovq.data.datasets import ShowerStream
from calovq.data.summary import summarize
from calovq.exceptions import DataFormatError, OutputExistsError

from .conftest import synthetic_showers


def test_round_trip_official_layout(tiny_file: tuple[Path, np.ndarray, np.ndarray]) -> None:
    path, e, s = tiny_file
    with h5py.File(path, "r") as h5:  # what the official evaluate.py reads
        assert h5["incident_energies"].shape == (50, 1)
        assert h5["showers"].shape == (50, 360)
        assert h5["showers"].compression == "gzip"
        np.testing.assert_allclose(h5["incident_energies"][:, 0], e)
        np.testing.assert_array_equal(h5["showers"][:], s)
    with ShowerFile(path) as f:
        assert f.geometry.name == "tiny"
        assert len(f) == 50
        e2, s2 = f.read()
        np.testing.assert_allclose(e2, e)
        np.testing.assert_array_equal(s2, s)


@pytest.mark.parametrize("rows", [1, 7, 50, 1000])
def test_chunked_read_equals_whole(tiny_file: tuple[Path, np.ndarray, np.ndarray], rows: int) -> None:
    path, e, s = tiny_file
    with ShowerFile(path) as f:
        chunks = list(f.iter_chunks(chunk_rows=rows))
    assert all(len(c[0]) <= rows for c in chunks)
    np.testing.assert_allclose(np.concatenate([c[0] for c in chunks]), e)
    np.testing.assert_array_equal(np.concatenate([c[1] for c in chunks]), s)


def test_incremental_writer(tmp_path: Path) -> None:
    e, s = synthetic_showers("1-photons", 30)
    with ShowerWriter(tmp_path / "w.h5", "1-photons", attrs={"seed": 3}) as w:
        for lo in range(0, 30, 8):
            w.append(e[lo : lo + 8, None], s[lo : lo + 8])
        assert not (tmp_path / "w.h5").exists()  # only the temporary name exists while writing
    with ShowerFile(tmp_path / "w.h5") as f:
        assert f.attrs["seed"] == 3
        assert f.attrs["geometry"] == "1-photons"
        np.testing.assert_array_equal(f.read()[1], s)
    assert [p.name for p in tmp_path.iterdir()] == ["w.h5"]


def test_no_overwrite_and_no_partial_file(tmp_path: Path) -> None:
    e, s = synthetic_showers("tiny", 5)
    path = write_showers(tmp_path / "x.h5", e, s)
    before = path.read_bytes()
    with pytest.raises(OutputExistsError, match="overwrite"):
        write_showers(path, e, s)
    bad = s.copy()
    bad[2, 3] = np.nan
    with pytest.raises(DataFormatError, match="non-finite"):
        write_showers(path, e, bad, overwrite=True)
    assert path.read_bytes() == before  # the failed write left the old file untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.h5"]  # and no temporary file behind
    write_showers(path, e[:2], s[:2], overwrite=True)
    with ShowerFile(path) as f:
        assert len(f) == 2


def _write_raw(path: Path, **datasets: np.ndarray) -> Path:
    with h5py.File(path, "w") as h5:
        for k, v in datasets.items():
            h5.create_dataset(k, data=v)
    return path


@pytest.mark.parametrize(
    ("datasets", "match"),
    [
        ({"showers": np.zeros((3, 360))}, "missing dataset 'incident_energies'"),
        ({"incident_energies": np.ones((3, 1))}, "missing dataset 'showers'"),
        ({"incident_energies": np.ones((3, 2)), "showers": np.zeros((3, 360))}, r"shape \(N, 1\)"),
        ({"incident_energies": np.ones((3, 1)), "showers": np.zeros((3, 4, 90))}, "n_voxels"),
        ({"incident_energies": np.ones((4, 1)), "showers": np.zeros((3, 360))}, "4 incident energies but 3"),
        ({"incident_energies": np.ones((3, 1)), "showers": np.zeros((3, 361))}, "match no built-in geometry"),
    ],
)
def test_structure_errors(tmp_path: Path, datasets: dict[str, np.ndarray], match: str) -> None:
    path = _write_raw(tmp_path / "bad.h5", **datasets)
    with pytest.raises(DataFormatError, match=match):
        ShowerFile(path)


@pytest.mark.parametrize(
    ("energy", "voxel", "match"),
    [
        (1.0e4, np.nan, "non-finite"),
        (1.0e4, np.inf, "non-finite"),
        (1.0e4, -1.0, "negative"),
        (np.nan, 1.0, "positive finite"),
        (-5.0, 1.0, "positive finite"),
        (0.0, 1.0, "positive finite"),
    ],
)
def test_value_errors(tmp_path: Path, energy: float, voxel: float, match: str) -> None:
    e = np.full((3, 1), 1.0e4)
    s = np.zeros((3, 360))
    e[1, 0] = energy
    s[1, 7] = voxel
    path = _write_raw(tmp_path / "bad.h5", incident_energies=e, showers=s)
    with ShowerFile(path) as f, pytest.raises(DataFormatError, match=match):
        list(f.iter_chunks())


def test_wrong_geometry(tiny_file: tuple[Path, np.ndarray, np.ndarray]) -> None:
    with pytest.raises(DataFormatError, match="geometry '2' has 6480"):
        ShowerFile(tiny_file[0], "2")


def test_not_hdf5_and_truncated(tmp_path: Path, tiny_file: tuple[Path, np.ndarray, np.ndarray]) -> None:
    text = tmp_path / "t.h5"
    text.write_text("this is not HDF5")
    with pytest.raises(DataFormatError, match="not a readable HDF5"):
        ShowerFile(text)
    data = tiny_file[0].read_bytes()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFormatError, match="truncated"), ShowerFile(cut) as f:
        list(f.iter_chunks())
    with pytest.raises(DataFormatError, match="no such file"):
        ShowerFile(tmp_path / "missing.h5")


def test_summary_values(tmp_path: Path) -> None:
    e = np.array([1000.0, 4000.0])
    s = np.zeros((2, 360), dtype=np.float32)
    s[0, 0], s[0, 1] = 500.0, 0.01  # 0.01 MeV is below the 15.15 keV threshold
    s[1, 5] = 2000.0
    path = write_showers(tmp_path / "s.h5", e, s)
    summ = summarize(path)
    assert summ.n_events == 2
    assert summ.e_tot_mean == pytest.approx((500.01 + 2000.0) / 2, rel=1e-6)
    assert summ.ratio_mean == pytest.approx((0.50001 + 0.5) / 2, rel=1e-5)
    assert summ.empty_fraction == pytest.approx((720 - 3) / 720)
    assert summ.below_threshold_fraction == pytest.approx((720 - 2) / 720)
    assert summ.max_voxel == 2000.0


def test_info_cli(tiny_file: tuple[Path, np.ndarray, np.ndarray], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(tiny_file[0]), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "tiny (360 voxels)" in out
    assert "events          50" in out
    assert main(["info", str(tiny_file[0]), "--dataset", "3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("calovq: error:")
    assert "40500" in err[0]


def test_geometry_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ds1.xml"
    assert main(["geometry", "1-pions", "--xml", str(out)]) == 0
    assert main(["geometry", str(out)]) == 0
    assert "533 voxels" in capsys.readouterr().out
    assert main(["geometry", "1-pions", "--xml", str(out)]) == 2  # exists, no --overwrite
    assert main(["geometry", "nope"]) == 2


@pytest.mark.parametrize("world_size", [1, 2, 3])
def test_stream_shards_cover_every_event_once(tiny_file: tuple[Path, np.ndarray, np.ndarray], world_size: int) -> None:
    path, e, _ = tiny_file
    seen = []
    for rank in range(world_size):
        ds = ShowerStream(path, batch_size=4, rank=rank, world_size=world_size, block_rows=6, seed=5)
        for energies, showers in ds:
            assert showers.shape[1] == 360
            assert showers.dtype == torch.float32
            seen.append(energies.numpy())
    np.testing.assert_allclose(np.sort(np.concatenate(seen)), np.sort(e.astype(np.float32)))


def test_stream_epochs_shuffle_and_range(tiny_file: tuple[Path, np.ndarray, np.ndarray]) -> None:
    path, e, _ = tiny_file
    ds = ShowerStream(path, batch_size=50, block_rows=10, seed=1, start=10, stop=40)
    first = torch.cat([b[0] for b in ds])
    ds.set_epoch(1)
    second = torch.cat([b[0] for b in ds])
    assert len(first) == 30
    assert not torch.equal(first, second)
    torch.testing.assert_close(first.sort().values, torch.from_numpy(np.sort(e[10:40]).astype(np.float32)))
    loader = torch.utils.data.DataLoader(
        ShowerStream(path, batch_size=8, block_rows=8, shuffle=False), batch_size=None, num_workers=2
    )
    got = torch.cat([b[0] for b in loader])
    assert sorted(got.tolist()) == sorted(e.astype(np.float32).tolist())
