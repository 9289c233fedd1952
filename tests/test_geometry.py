from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from calovq.exceptions import DataFormatError, GeometryError
from calovq.geometry import (
    GEOMETRY_NAMES,
    Layer,
    dataset1_energy_counts,
    from_grid,
    from_padded,
    geometry_for_voxels,
    geometry_from_xml,
    geometry_to_xml,
    get_geometry,
    padded_mask,
    to_grid,
    to_padded,
)

OFFICIAL = {
    "1-photons": "binning_dataset_1_photons.xml",
    "1-pions": "binning_dataset_1_pions.xml",
    "2": "binning_dataset_2.xml",
    "3": "binning_dataset_3.xml",
}


@pytest.mark.parametrize(
    ("name", "n_voxels"), [("1-photons", 368), ("1-pions", 533), ("2", 6480), ("3", 40500), ("tiny", 360)]
)
def test_voxel_counts(name: str, n_voxels: int) -> None:
    geo = get_geometry(name)
    assert geo.n_voxels == n_voxels
    assert geo.layer_offsets[-1] == n_voxels
    assert geometry_for_voxels(n_voxels) is geo


@pytest.mark.parametrize("name", list(OFFICIAL))
def test_builtin_matches_official_xml(name: str, shared_calochallenge: Path) -> None:
    official = geometry_from_xml(shared_calochallenge / OFFICIAL[name])
    ours = get_geometry(name)
    assert official.layers == ours.layers
    assert official.pid == ours.pid
    assert official.n_voxels == ours.n_voxels
    assert official.eta_range == ours.eta_range


@pytest.mark.parametrize("name", GEOMETRY_NAMES)
def test_xml_round_trip(name: str, tmp_path: Path) -> None:
    geo = get_geometry(name)
    path = tmp_path / "g.xml"
    path.write_text(geometry_to_xml(geo))
    back = geometry_from_xml(path, name=name)
    assert back.layers == geo.layers
    assert back.pid == geo.pid


def test_aliases() -> None:
    assert get_geometry("ds2") is get_geometry("2")
    assert get_geometry("dataset_3") is get_geometry("3")
    assert get_geometry("dataset_1_photons") is get_geometry("1-photons")
    with pytest.raises(GeometryError, match="valid names"):
        get_geometry("4")


def test_dataset1_layers_and_counts() -> None:
    photons, pions = get_geometry("1-photons"), get_geometry("1-pions")
    assert photons.layer_ids == (0, 1, 2, 3, 12)
    assert pions.layer_ids == (0, 1, 2, 3, 12, 13, 14)
    assert [la.n_voxels for la in photons.binned_layers] == [8, 160, 190, 5, 5]
    assert [la.n_voxels for la in pions.binned_layers] == [8, 100, 100, 5, 150, 160, 10]
    assert sum(dataset1_energy_counts(photons).values()) == 121_000
    assert sum(dataset1_energy_counts(pions).values()) == 120_800
    assert not photons.is_regular
    with pytest.raises(GeometryError):
        _ = photons.shape


def test_coordinates_hand_computed() -> None:
    geo = get_geometry("2")
    # voxel 0: layer 0, first alpha bin (centre -pi + pi/16), first r bin (centre 2.325 mm)
    assert geo.voxel_r[0] == pytest.approx(2.325)
    assert geo.voxel_alpha[0] == pytest.approx(-math.pi + math.pi / 16)
    # r is fastest: voxel 1 is the next radial bin, same alpha
    assert geo.voxel_r[1] == pytest.approx(2.325 + 4.65)
    assert geo.voxel_alpha[9] == pytest.approx(-math.pi + 3 * math.pi / 16)
    assert geo.voxel_eta[0] == pytest.approx(2.325 * math.cos(-math.pi + math.pi / 16))
    assert geo.voxel_phi[0] == pytest.approx(2.325 * math.sin(-math.pi + math.pi / 16))
    assert geo.voxel_layer[6480 - 1] == 44
    # the voxel areas tile each layer's disc
    per_layer = geo.voxel_area[geo.layer_slice(0)].sum()
    assert per_layer == pytest.approx(math.pi * 41.85**2)


def test_layer_slices_partition() -> None:
    geo = get_geometry("1-pions")
    covered = np.zeros(geo.n_voxels, dtype=int)
    for i in range(geo.n_layers):
        covered[geo.layer_slice(i)] += 1
    assert (covered == 1).all()
    assert geo.layer_slice(4) == slice(213, 363)  # Tile0 follows 8 + 100 + 100 + 5 voxels
    with pytest.raises(GeometryError):
        geo.layer_slice(7)


def test_grid_round_trip_and_order() -> None:
    geo = get_geometry("2")
    flat = np.arange(2 * geo.n_voxels, dtype=np.float32).reshape(2, -1)
    grid = to_grid(flat, geo)
    assert grid.shape == (2, 45, 16, 9)
    assert grid[0, 1, 2, 3] == 1 * 144 + 2 * 9 + 3  # (layer, alpha, r), r fastest
    np.testing.assert_array_equal(from_grid(grid, geo), flat)
    t = torch.from_numpy(flat)
    assert torch.equal(from_grid(to_grid(t, geo), geo), t)
    with pytest.raises(DataFormatError):
        to_grid(flat[:, :-1], geo)


@pytest.mark.parametrize("name", ["1-photons", "1-pions", "tiny"])
def test_padded_round_trip(name: str) -> None:
    geo = get_geometry(name)
    rng = np.random.default_rng(1)
    flat = rng.random((3, geo.n_voxels))
    padded = to_padded(flat, geo)
    assert padded.shape == (3, *geo.padded_shape)
    mask = padded_mask(geo)
    assert mask.sum() == geo.n_voxels
    assert (padded[:, ~mask] == 0).all()
    np.testing.assert_array_equal(from_padded(padded, geo), flat)
    t = torch.from_numpy(flat)
    assert torch.equal(from_padded(to_padded(t, geo), geo), t)


def test_layer_validation() -> None:
    with pytest.raises(GeometryError, match="increasing"):
        Layer(0, (0.0, 2.0, 1.0), 1)
    with pytest.raises(GeometryError, match="start at 0"):
        Layer(0, (1.0, 2.0), 1)
    with pytest.raises(GeometryError, match="n_alpha"):
        Layer(0, (0.0, 1.0), 0)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("<Bins><Bin pid='11'></Bin></Bins>", "no <Layer>"),
        ("<Bins><Bin pid='11'><Layer id='0' r_edges='0,a' n_bin_alpha='1'/></Bin></Bins>", "malformed"),
        ("<Bins><Bin", "not valid XML"),
        ('<!DOCTYPE x [<!ENTITY a "b">]><Bins/>', "DOCTYPE"),
    ],
)
def test_bad_xml(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "bad.xml"
    path.write_text(content)
    with pytest.raises(GeometryError, match=match):
        geometry_from_xml(path)


def test_missing_xml(tmp_path: Path) -> None:
    with pytest.raises(GeometryError, match="cannot read"):
        geometry_from_xml(tmp_path / "nope.xml")


def test_user_xml_via_get_geometry(tmp_path: Path) -> None:
    path = tmp_path / "mine.xml"
    path.write_text(
        '<Bins><Bin pid="11" name="electron">'
        '<Layer id="0" r_edges="0,1,3" n_bin_alpha="4"/><Layer id="1" r_edges="0,2" n_bin_alpha="1"/>'
        "</Bin></Bins>"
    )
    geo = get_geometry(str(path))
    assert geo.name == "mine"
    assert geo.n_voxels == 9
    assert not geo.is_regular
