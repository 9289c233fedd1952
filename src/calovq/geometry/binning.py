"""Calorimeter binning: layers of (radial x angular) voxels, and the CaloChallenge binning XML format.

A CaloChallenge detector is a stack of layers. Each layer is binned in the radial distance ``r`` (mm) from
the shower axis with arbitrary edges and in the angle ``alpha`` with ``n_alpha`` uniform bins on
[-pi, pi). Layers without bins (``r_edges = [0]``) carry no voxels. Flat showers list the voxels layer by
layer, then alpha, then r (r fastest): see the CaloChallenge README and ``XMLHandler.py`` of
github.com/CaloChallenge/homepage.
"""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from calovq.exceptions import GeometryError

__all__ = ["Geometry", "Layer", "geometry_from_xml", "geometry_to_xml"]


@dataclass(frozen=True)
class Layer:
    """One calorimeter layer.

    Attributes:
        id: layer id as in the binning XML (ATLAS CaloSampling ids for dataset 1).
        r_edges: radial bin edges in mm, strictly increasing, starting at 0. ``(0.0,)`` means unbinned.
        n_alpha: number of uniform angular bins on [-pi, pi).
    """

    id: int
    r_edges: tuple[float, ...]
    n_alpha: int = 1

    def __post_init__(self) -> None:
        edges = self.r_edges
        if len(edges) == 0:
            msg = f"layer {self.id}: r_edges is empty (use (0,) for a layer without bins)"
            raise GeometryError(msg)
        if any(not math.isfinite(e) for e in edges) or edges[0] != 0.0:
            msg = f"layer {self.id}: r_edges must be finite and start at 0, got {edges}"
            raise GeometryError(msg)
        if any(b <= a for a, b in itertools.pairwise(edges)):
            msg = f"layer {self.id}: r_edges must be strictly increasing, got {edges}"
            raise GeometryError(msg)
        if self.n_alpha < 1:
            msg = f"layer {self.id}: n_alpha must be >= 1, got {self.n_alpha}"
            raise GeometryError(msg)

    @property
    def n_r(self) -> int:
        """Number of radial bins."""
        return len(self.r_edges) - 1

    @property
    def n_voxels(self) -> int:
        """Voxels in this layer (``n_alpha * n_r``; 0 for an unbinned layer)."""
        return self.n_alpha * self.n_r

    @property
    def is_binned(self) -> bool:
        return self.n_r > 0

    @property
    def r_mid(self) -> np.ndarray:
        """Radial bin centres in mm, shape (n_r,)."""
        e = np.asarray(self.r_edges, dtype=np.float64)
        return 0.5 * (e[:-1] + e[1:])

    @property
    def alpha_edges(self) -> np.ndarray:
        """Angular bin edges, ``linspace(-pi, pi, n_alpha + 1)`` as in the official XMLHandler."""
        return np.linspace(-math.pi, math.pi, self.n_alpha + 1)

    @property
    def alpha_mid(self) -> np.ndarray:
        """Angular bin centres, shape (n_alpha,)."""
        e = self.alpha_edges
        return 0.5 * (e[:-1] + e[1:])


@dataclass(frozen=True)
class Geometry:
    """A calorimeter geometry: an ordered stack of layers plus the dataset's conventions.

    Attributes:
        name: short name (``"1-photons"``, ``"1-pions"``, ``"2"``, ``"3"``, ``"tiny"`` or user-chosen).
        layers: every layer of the binning, including unbinned ones, in file order.
        particle: ``"photon"``, ``"pion"`` or ``"electron"``.
        pid: PDG id of the incident particle (22, 211, 11).
        threshold_mev: readout threshold (MeV) applied by the official evaluation: 15.15 keV for
            datasets 2/3 (0.5 keV / 0.033), 1 MeV for dataset 1.
        energy_range_mev: (min, max) incident energy in MeV of the dataset.
        discrete_energies_mev: the discrete incident energies (dataset 1), empty otherwise.
        eta_range: (etaMin, etaMax) attributes of the XML ``Bin`` element, if any (dataset 1 uses x100).
    """

    name: str
    layers: tuple[Layer, ...]
    particle: str = "electron"
    pid: int = 11
    threshold_mev: float = 0.5e-3 / 0.033
    energy_range_mev: tuple[float, float] = (1.0e3, 1.0e6)
    discrete_energies_mev: tuple[float, ...] = ()
    eta_range: tuple[int, int] | None = None
    description: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        ids = [layer.id for layer in self.layers]
        if len(set(ids)) != len(ids):
            msg = f"geometry {self.name!r}: duplicate layer ids {ids}"
            raise GeometryError(msg)
        if self.n_voxels == 0:
            msg = f"geometry {self.name!r} has no binned layer"
            raise GeometryError(msg)
        lo, hi = self.energy_range_mev
        if not (0 < lo <= hi):
            msg = f"geometry {self.name!r}: bad energy range {self.energy_range_mev}"
            raise GeometryError(msg)

    # -- structure -------------------------------------------------------------------------------
    @cached_property
    def binned_layers(self) -> tuple[Layer, ...]:
        """Layers that carry voxels, in voxel order."""
        return tuple(layer for layer in self.layers if layer.is_binned)

    @property
    def layer_ids(self) -> tuple[int, ...]:
        """Ids of the binned layers (photons ds1: 0, 1, 2, 3, 12)."""
        return tuple(layer.id for layer in self.binned_layers)

    @property
    def n_layers(self) -> int:
        """Number of binned layers."""
        return len(self.binned_layers)

    @cached_property
    def n_voxels(self) -> int:
        return sum(layer.n_voxels for layer in self.layers)

    @cached_property
    def layer_offsets(self) -> np.ndarray:
        """Start index of each binned layer in a flat shower, plus the total: shape (n_layers + 1,)."""
        sizes = [layer.n_voxels for layer in self.binned_layers]
        return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)

    def layer_slice(self, index: int) -> slice:
        """Slice of the flat voxel vector holding binned layer number ``index`` (0-based position)."""
        if not -self.n_layers <= index < self.n_layers:
            msg = f"layer position {index} out of range for {self.n_layers} binned layers"
            raise GeometryError(msg)
        index %= self.n_layers
        return slice(int(self.layer_offsets[index]), int(self.layer_offsets[index + 1]))

    @property
    def is_regular(self) -> bool:
        """True when every binned layer has the same r edges and alpha bins (datasets 2 and 3)."""
        first = self.binned_layers[0]
        return all(layer.r_edges == first.r_edges and layer.n_alpha == first.n_alpha for layer in self.binned_layers)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(layers, alpha, r) of a regular geometry; raises :class:`GeometryError` otherwise."""
        if not self.is_regular:
            msg = f"geometry {self.name!r} is irregular: use the padded layout (calovq.geometry.layout)"
            raise GeometryError(msg)
        first = self.binned_layers[0]
        return (self.n_layers, first.n_alpha, first.n_r)

    @property
    def padded_shape(self) -> tuple[int, int, int]:
        """(layers, max alpha, max r): the smallest regular grid every layer fits into."""
        return (
            self.n_layers,
            max(layer.n_alpha for layer in self.binned_layers),
            max(layer.n_r for layer in self.binned_layers),
        )

    # -- voxel coordinates ------------------------------------------------------------------------
    @cached_property
    def voxel_layer(self) -> np.ndarray:
        """Position (0..n_layers-1) of the binned layer of each voxel, shape (n_voxels,)."""
        return np.repeat(np.arange(self.n_layers), [layer.n_voxels for layer in self.binned_layers])

    @cached_property
    def voxel_r(self) -> np.ndarray:
        """Radial bin centre (mm) of each voxel, shape (n_voxels,)."""
        return np.concatenate([np.tile(layer.r_mid, layer.n_alpha) for layer in self.binned_layers])

    @cached_property
    def voxel_alpha(self) -> np.ndarray:
        """Angular bin centre (rad) of each voxel, shape (n_voxels,)."""
        return np.concatenate([np.repeat(layer.alpha_mid, layer.n_r) for layer in self.binned_layers])

    @property
    def voxel_eta(self) -> np.ndarray:
        """eta-like coordinate r cos(alpha) in mm (the official HighLevelFeatures convention)."""
        return self.voxel_r * np.cos(self.voxel_alpha)

    @property
    def voxel_phi(self) -> np.ndarray:
        """phi-like coordinate r sin(alpha) in mm."""
        return self.voxel_r * np.sin(self.voxel_alpha)

    @cached_property
    def voxel_area(self) -> np.ndarray:
        """Front-face area (mm^2) of each voxel's annular sector, shape (n_voxels,)."""
        parts = []
        for layer in self.binned_layers:
            e = np.asarray(layer.r_edges)
            ring = math.pi * (e[1:] ** 2 - e[:-1] ** 2) / layer.n_alpha
            parts.append(np.tile(ring, layer.n_alpha))
        return np.concatenate(parts)

    def summary(self) -> str:
        """A few human-readable lines describing the geometry."""
        lines = [f"geometry {self.name}: {self.particle} (pid {self.pid}), {self.n_voxels} voxels"]
        for layer in self.binned_layers:
            lines.append(
                f"  layer {layer.id:>2}: {layer.n_alpha:>3} alpha x {layer.n_r:>2} r = {layer.n_voxels:>5} voxels,"
                f" r edges {layer.r_edges[0]:g}..{layer.r_edges[-1]:g} mm"
            )
        lo, hi = self.energy_range_mev
        lines.append(f"  incident energy {lo:g} .. {hi:g} MeV; evaluation threshold {self.threshold_mev:.6g} MeV")
        return "\n".join(lines)


# -- XML ------------------------------------------------------------------------------------------
_PARTICLE = {22: "photon", 211: "pion", -211: "pion", 11: "electron", -11: "electron"}
_FORBIDDEN = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


def geometry_from_xml(source: str | Path, name: str | None = None, **overrides: object) -> Geometry:
    """Parse a CaloChallenge binning XML file (``<Bins><Bin pid=..><Layer id r_edges n_bin_alpha/>``).

    Args:
        source: path of the XML file.
        name: geometry name; defaults to the file stem.
        overrides: other :class:`Geometry` fields (threshold, energy range) to set.

    Raises:
        GeometryError: unreadable file, malformed XML, or inconsistent layers.
    """
    path = Path(source)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        msg = f"cannot read binning XML {path}: {exc.strerror or exc}"
        raise GeometryError(msg) from exc
    if _FORBIDDEN.search(raw):
        msg = f"{path}: DOCTYPE/ENTITY declarations are not allowed in a binning XML"
        raise GeometryError(msg)
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        msg = f"{path}: not valid XML ({exc})"
        raise GeometryError(msg) from exc
    bins = [root] if root.tag == "Bin" else root.findall("Bin")
    if len(bins) != 1:
        msg = f"{path}: expected exactly one <Bin> element, found {len(bins)}"
        raise GeometryError(msg)
    b = bins[0]
    layers = []
    for el in b.findall("Layer"):
        try:
            lid = int(el.attrib["id"])
            edges = tuple(float(x) for x in el.attrib["r_edges"].split(","))
            n_alpha = int(el.attrib.get("n_bin_alpha", "1"))
        except (KeyError, ValueError) as exc:
            msg = f"{path}: malformed <Layer> {el.attrib}: {exc}"
            raise GeometryError(msg) from exc
        layers.append(Layer(lid, edges, n_alpha))
    if not layers:
        msg = f"{path}: no <Layer> elements"
        raise GeometryError(msg)
    try:
        pid = int(b.attrib.get("pid", "11"))
    except ValueError as exc:
        msg = f"{path}: bad pid {b.attrib.get('pid')!r}"
        raise GeometryError(msg) from exc
    eta = None
    if "etaMin" in b.attrib and "etaMax" in b.attrib:
        eta = (int(float(b.attrib["etaMin"])), int(float(b.attrib["etaMax"])))
    kwargs: dict[str, object] = {
        "name": name or path.stem,
        "layers": tuple(layers),
        "pid": pid,
        "particle": _PARTICLE.get(pid, b.attrib.get("name", "unknown")),
        "eta_range": eta,
    }
    kwargs.update(overrides)
    return Geometry(**kwargs)  # type: ignore[arg-type]


def _fmt(x: float) -> str:
    return f"{x:g}" if float(x) != int(x) else str(int(x))


def geometry_to_xml(geometry: Geometry) -> str:
    """Write ``geometry`` in the CaloChallenge binning XML format (readable by the official XMLHandler)."""
    attrs = f'pid="{geometry.pid}"'
    if geometry.eta_range is not None:
        attrs += f' etaMin="{geometry.eta_range[0]}" etaMax="{geometry.eta_range[1]}"'
    attrs += f' name="{geometry.particle}"'
    lines = ["<Bins>", f"   <Bin {attrs}>"]
    for layer in geometry.layers:
        edges = ",".join(_fmt(e) for e in layer.r_edges)
        lines.append(f'      <Layer id="{layer.id}" r_edges="{edges}" n_bin_alpha="{layer.n_alpha}" />')
    lines += ["   </Bin>", "</Bins>", ""]
    return "\n".join(lines)
