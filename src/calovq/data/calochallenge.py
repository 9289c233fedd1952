"""Read, validate, stream and write shower files in the CaloChallenge 2022 HDF5 format.

Format (CaloChallenge README): ``incident_energies`` of shape (N, 1) in MeV and ``showers`` of shape
(N, n_voxels) in MeV, voxel order (layer, alpha, r) with r fastest, gzip-compressed. Files written here
load unchanged in the official ``evaluate.py``.

Files are never read whole: :meth:`ShowerFile.iter_chunks` streams row blocks sized by bytes, so a
dataset-3 file (50k x 40500 floats = 8 GB) is processed in bounded memory. Every block is validated
(shape, NaN/inf, negative values); structural problems (missing datasets, length mismatch, a truncated or
non-HDF5 file, a voxel count that fits no geometry) raise :class:`DataFormatError` on opening.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from calovq import _interrupt
from calovq.data.atomic import commit, create_temporary, prepare_output
from calovq.exceptions import DataFormatError
from calovq.geometry import Geometry, geometry_for_voxels, get_geometry

__all__ = [
    "ENERGIES_KEY",
    "SHOWERS_KEY",
    "ShowerFile",
    "ShowerWriter",
    "check_energies",
    "check_showers",
    "default_chunk_rows",
    "write_showers",
]

ENERGIES_KEY = "incident_energies"
SHOWERS_KEY = "showers"

#: Bytes of shower data held in memory per streamed block.
DEFAULT_BLOCK_BYTES = 64 * 2**20


def default_chunk_rows(n_voxels: int, block_bytes: int = DEFAULT_BLOCK_BYTES) -> int:
    """Rows per streamed block so that one float32 block stays near ``block_bytes``."""
    return max(1, min(100_000, block_bytes // (4 * max(1, n_voxels))))


def check_showers(showers: np.ndarray, n_voxels: int, where: str = "showers") -> None:
    """Raise :class:`DataFormatError` unless ``showers`` is (N, n_voxels), finite and non-negative."""
    if showers.ndim != 2:
        msg = f"{where}: expected a 2-d array (N, {n_voxels}), got shape {showers.shape}"
        raise DataFormatError(msg)
    if showers.shape[1] != n_voxels:
        msg = f"{where}: {showers.shape[1]} voxels per shower, the geometry has {n_voxels}"
        raise DataFormatError(msg)
    finite = np.isfinite(showers)
    if not finite.all():
        row = int(np.argwhere(~finite)[0, 0])
        msg = f"{where}: non-finite (NaN/inf) voxel energy in shower {row}"
        raise DataFormatError(msg)
    if (showers < 0).any():
        row = int(np.argwhere(showers < 0)[0, 0])
        msg = f"{where}: negative voxel energy in shower {row} (CaloChallenge energies are >= 0)"
        raise DataFormatError(msg)


def check_energies(energies: np.ndarray, where: str = "incident_energies") -> np.ndarray:
    """Validate incident energies (N,) or (N, 1) in MeV: finite and positive. Returns them as (N,)."""
    e = np.asarray(energies)
    if e.ndim == 2 and e.shape[1] == 1:
        e = e[:, 0]
    if e.ndim != 1:
        msg = f"{where}: expected shape (N, 1) or (N,), got {np.shape(energies)}"
        raise DataFormatError(msg)
    bad = ~np.isfinite(e) | (e <= 0)
    if bad.any():
        row = int(np.argmax(bad))
        msg = f"{where}: incident energy {e[row]!r} of shower {row} is not a positive finite number"
        raise DataFormatError(msg)
    return e


class ShowerFile:
    """A CaloChallenge shower file opened for streaming.

    Args:
        path: HDF5 file.
        geometry: the geometry the file must match (name, XML path or :class:`Geometry`). If None, the
            built-in geometry with the file's voxel count is used.

    Raises:
        DataFormatError: missing file, not HDF5 / truncated, missing or mis-shaped datasets, length
            mismatch, or a voxel count that does not match the geometry.
    """

    def __init__(self, path: str | Path, geometry: str | Geometry | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            msg = f"{self.path}: " + ("is a directory, not a shower file" if self.path.is_dir() else "no such file")
            raise DataFormatError(msg)
        try:
            self._h5 = h5py.File(self.path, "r")
        except OSError as exc:
            msg = f"{self.path}: not a readable HDF5 file (truncated or corrupt?)"
            raise DataFormatError(msg) from exc
        try:
            self._validate_structure(geometry)
        except BaseException:
            self._h5.close()
            raise

    def _validate_structure(self, geometry: str | Geometry | None) -> None:
        keys = sorted(self._h5.keys())
        for key in (ENERGIES_KEY, SHOWERS_KEY):
            if key not in self._h5 or not isinstance(self._h5[key], h5py.Dataset):
                msg = f"{self.path}: missing dataset {key!r} (found: {', '.join(keys) or 'none'})"
                raise DataFormatError(msg)
        e, s = self._h5[ENERGIES_KEY], self._h5[SHOWERS_KEY]
        if not (e.ndim == 2 and e.shape[1] == 1) and e.ndim != 1:
            msg = f"{self.path}: {ENERGIES_KEY!r} must have shape (N, 1), got {e.shape}"
            raise DataFormatError(msg)
        if s.ndim != 2:
            msg = f"{self.path}: {SHOWERS_KEY!r} must have shape (N, n_voxels), got {s.shape}"
            raise DataFormatError(msg)
        if e.shape[0] != s.shape[0]:
            msg = f"{self.path}: {e.shape[0]} incident energies but {s.shape[0]} showers"
            raise DataFormatError(msg)
        for ds in (e, s):
            if not np.issubdtype(ds.dtype, np.number):
                msg = f"{self.path}: dataset {ds.name!r} has non-numeric dtype {ds.dtype}"
                raise DataFormatError(msg)
        n_vox = int(s.shape[1])
        if geometry is None:
            geo = geometry_for_voxels(n_vox)
            if geo is None:
                msg = (
                    f"{self.path}: {n_vox} voxels per shower match no built-in geometry "
                    "(368, 533, 6480, 40500, 360); pass the geometry or its binning XML"
                )
                raise DataFormatError(msg)
        else:
            geo = get_geometry(geometry)
            if geo.n_voxels != n_vox:
                msg = f"{self.path}: {n_vox} voxels per shower, geometry {geo.name!r} has {geo.n_voxels}"
                raise DataFormatError(msg)
        self.geometry: Geometry = geo
        self.n_events: int = int(s.shape[0])
        self.n_voxels: int = n_vox

    # -- context manager ---------------------------------------------------------------------------
    def close(self) -> None:
        self._h5.close()

    def __enter__(self) -> ShowerFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return self.n_events

    def __repr__(self) -> str:
        return f"ShowerFile({str(self.path)!r}, geometry={self.geometry.name!r}, n_events={self.n_events})"

    @property
    def attrs(self) -> dict[str, Any]:
        """File-level HDF5 attributes (calovq writes its version, geometry and seed there)."""
        return dict(self._h5.attrs)

    # -- reading -----------------------------------------------------------------------------------
    def _read(self, key: str, start: int, stop: int) -> np.ndarray:
        try:
            return np.asarray(self._h5[key][start:stop])
        except (OSError, RuntimeError) as exc:
            msg = f"{self.path}: cannot read {key}[{start}:{stop}] (truncated or corrupt file?)"
            raise DataFormatError(msg) from exc

    def _range(self, start: int, stop: int | None) -> tuple[int, int]:
        stop = self.n_events if stop is None else min(stop, self.n_events)
        if start < 0 or start > stop:
            msg = f"bad event range [{start}, {stop}) for a file of {self.n_events} events"
            raise DataFormatError(msg)
        return start, stop

    def energies(self, start: int = 0, stop: int | None = None, validate: bool = True) -> np.ndarray:
        """Incident energies in MeV as float64 (N,). Small enough to read whole for any dataset."""
        start, stop = self._range(start, stop)
        e = self._read(ENERGIES_KEY, start, stop).astype(np.float64).reshape(-1)
        if validate:
            check_energies(e, f"{self.path}:{ENERGIES_KEY}")
        return e

    def read(
        self, start: int = 0, stop: int | None = None, validate: bool = True, dtype: Any = np.float32
    ) -> tuple[np.ndarray, np.ndarray]:
        """Read events ``[start, stop)`` as (energies (n,), showers (n, n_voxels)). Mind the memory."""
        start, stop = self._range(start, stop)
        e = self.energies(start, stop, validate)
        s = self._read(SHOWERS_KEY, start, stop).astype(dtype, copy=False)
        if validate:
            check_showers(s, self.n_voxels, f"{self.path}:{SHOWERS_KEY}[{start}:{stop}]")
        return e, s

    def iter_chunks(
        self,
        chunk_rows: int | None = None,
        start: int = 0,
        stop: int | None = None,
        validate: bool = True,
        dtype: Any = np.float32,
        progress: bool | str = False,
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (energies, showers) blocks of at most ``chunk_rows`` events from ``[start, stop)``.

        ``chunk_rows`` defaults to about 64 MiB of float32 showers (414 rows for dataset 3).
        ``progress`` shows a tqdm bar on stderr (a string sets its description).
        """
        start, stop = self._range(start, stop)
        rows = chunk_rows or default_chunk_rows(self.n_voxels)
        if rows < 1:
            msg = f"chunk_rows must be >= 1, got {rows}"
            raise ValueError(msg)
        bar = None
        if progress:
            from tqdm.auto import tqdm

            desc = progress if isinstance(progress, str) else self.path.name
            bar = tqdm(total=stop - start, desc=desc, unit="shower", leave=False)
        try:
            for lo in range(start, stop, rows):
                _interrupt.check()
                hi = min(lo + rows, stop)
                yield self.read(lo, hi, validate=validate, dtype=dtype)
                if bar is not None:
                    bar.update(hi - lo)
        finally:
            if bar is not None:
                bar.close()


class ShowerWriter:
    """Write a CaloChallenge file incrementally, atomically.

    Data go to a hidden temporary file beside ``path``; :meth:`close` renames it to ``path`` only after
    everything was written. On an exception inside ``with`` the temporary file is removed and an existing
    ``path`` is left untouched.

    Args:
        path: output file.
        geometry: geometry the showers belong to (fixes the voxel count).
        overwrite: replace an existing ``path``; otherwise :class:`OutputExistsError`.
        attrs: extra HDF5 file attributes (e.g. seed, generator settings).
        compression_level: gzip level (1-9).
    """

    def __init__(
        self,
        path: str | Path,
        geometry: str | Geometry,
        overwrite: bool = False,
        attrs: dict[str, Any] | None = None,
        compression_level: int = 4,
    ) -> None:
        self.geometry = get_geometry(geometry)
        self.path = prepare_output(path, overwrite)
        self._tmp = create_temporary(self.path)
        n_vox = self.geometry.n_voxels
        chunk = max(1, min(256, 2**20 // (4 * n_vox)))
        self._h5 = h5py.File(self._tmp, "w")
        self._e = self._h5.create_dataset(
            ENERGIES_KEY, shape=(0, 1), maxshape=(None, 1), dtype="f8", chunks=(4096, 1), compression="gzip"
        )
        self._s = self._h5.create_dataset(
            SHOWERS_KEY,
            shape=(0, n_vox),
            maxshape=(None, n_vox),
            dtype="f4",
            chunks=(chunk, n_vox),
            compression="gzip",
            compression_opts=compression_level,
        )
        from calovq import __version__

        self._h5.attrs["calovq_version"] = __version__
        self._h5.attrs["geometry"] = self.geometry.name
        for k, v in (attrs or {}).items():
            self._h5.attrs[k] = v
        self.n_events = 0
        self._closed = False

    def append(self, energies: np.ndarray, showers: np.ndarray) -> None:
        """Append a block: energies (n,) or (n, 1) in MeV and showers (n, n_voxels) in MeV."""
        e = check_energies(energies)
        s = np.asarray(showers)
        check_showers(s, self.geometry.n_voxels)
        if len(e) != len(s):
            msg = f"{len(e)} incident energies but {len(s)} showers in one block"
            raise DataFormatError(msg)
        _interrupt.check()
        n0, n = self.n_events, len(e)
        self._e.resize(n0 + n, axis=0)
        self._s.resize(n0 + n, axis=0)
        self._e[n0:] = e[:, None]
        self._s[n0:] = s.astype(np.float32, copy=False)
        self.n_events += n

    def close(self) -> Path:
        """Finish the file and move it to its final name. Returns the final path."""
        if not self._closed:
            self._closed = True
            self._h5.close()
            commit(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Drop the temporary file; the final path is not touched."""
        if not self._closed:
            self._h5.close()
            self._tmp.unlink(missing_ok=True)
            self._closed = True

    def __enter__(self) -> ShowerWriter:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_showers(
    path: str | Path,
    energies: np.ndarray,
    showers: np.ndarray,
    geometry: str | Geometry | None = None,
    overwrite: bool = False,
    attrs: dict[str, Any] | None = None,
) -> Path:
    """Write a whole in-memory sample to ``path`` (atomically). The geometry defaults to the voxel count's."""
    if geometry is None:
        geometry = geometry_for_voxels(np.shape(showers)[-1])
        if geometry is None:
            msg = f"{np.shape(showers)[-1]} voxels match no built-in geometry; pass geometry="
            raise DataFormatError(msg)
    with ShowerWriter(path, geometry, overwrite=overwrite, attrs=attrs) as w:
        w.append(energies, showers)
    return Path(path)
