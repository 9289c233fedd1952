"""Download the official CaloChallenge 2022 datasets from Zenodo, verified and resumable.

Files are listed by the Zenodo REST API (``GET {base}/api/records/{id}``), streamed to ``NAME.part``
next to the destination, checked against the MD5 the record publishes (or a known MD5 when the record
gives none) and only then renamed to ``NAME``. An interrupted transfer leaves the ``.part`` file behind and
the next call resumes it with an HTTP ``Range`` request; a server that ignores ``Range`` is handled by
starting again from zero. A file whose checksum does not match is deleted (``.part`` included).

Only the standard library is used for HTTP (:mod:`urllib`), so this works wherever Python does. On shared
clusters, reading the downloaded HDF5 files may need ``HDF5_USE_FILE_LOCKING=FALSE`` in the environment;
this module sets nothing global.

Example:
    >>> from calovq.data.download import download_dataset
    >>> paths = download_dataset("1-photons", "data")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import logging
import os
import shutil
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from calovq.data.atomic import ensure_directory
from calovq.exceptions import CaloVQError, ChecksumError, DownloadError, OutputError, OutputExistsError

__all__ = [
    "DATASET_NAMES",
    "DATASET_RECORDS",
    "DEFAULT_BASE_URL",
    "ENV_BASE_URL",
    "KNOWN_MD5",
    "DatasetRecord",
    "RecordFile",
    "canonical_dataset",
    "download_dataset",
    "download_file",
    "fetch_record",
    "md5sum",
    "resolve_base_url",
]

_log = logging.getLogger(__name__)

#: Zenodo server used unless ``base_url`` or the environment variable :data:`ENV_BASE_URL` says otherwise.
DEFAULT_BASE_URL = "https://zenodo.org"
#: Environment variable overriding :data:`DEFAULT_BASE_URL` (a mirror, or a local test server).
ENV_BASE_URL = "CALOVQ_ZENODO_URL"

_CHUNK = 1 << 20
_TRANSIENT_HTTP = frozenset({408, 425, 429, 500, 502, 503, 504})
_MAX_BACKOFF_S = 30.0


@dataclass(frozen=True)
class DatasetRecord:
    """One CaloChallenge dataset on Zenodo.

    Attributes:
        name: canonical dataset name (``"1-photons"``, ``"1-pions"``, ``"2"``, ``"3"``).
        record_id: Zenodo record id.
        doi: the record's DOI.
        files: the shower files that make up the dataset, in order.
        extras: further files fetched on request when the record lists them (the binning XML).
    """

    name: str
    record_id: int
    doi: str
    files: tuple[str, ...]
    extras: tuple[str, ...] = ()


#: The official records, keyed by canonical dataset name.
DATASET_RECORDS: dict[str, DatasetRecord] = {
    "1-photons": DatasetRecord(
        "1-photons",
        8099322,
        "10.5281/zenodo.8099322",
        ("dataset_1_photons_1.hdf5", "dataset_1_photons_2.hdf5"),
        ("binning_dataset_1_photons.xml",),
    ),
    "1-pions": DatasetRecord(
        "1-pions",
        8099322,
        "10.5281/zenodo.8099322",
        ("dataset_1_pions_1.hdf5", "dataset_1_pions_2.hdf5"),
        ("binning_dataset_1_pions.xml",),
    ),
    "2": DatasetRecord(
        "2",
        6366270,
        "10.5281/zenodo.6366270",
        ("dataset_2_1.hdf5", "dataset_2_2.hdf5"),
        ("binning_dataset_2.xml",),
    ),
    "3": DatasetRecord(
        "3",
        6366323,
        "10.5281/zenodo.6366323",
        ("dataset_3_1.hdf5", "dataset_3_2.hdf5", "dataset_3_3.hdf5", "dataset_3_4.hdf5"),
        ("binning_dataset_3.xml",),
    ),
}

#: Dataset names accepted by :func:`download_dataset` (aliases such as ``ds2`` work too).
DATASET_NAMES: tuple[str, ...] = tuple(DATASET_RECORDS)

#: MD5 sums known independently of Zenodo, used when a record publishes none.
KNOWN_MD5: dict[str, str] = {
    "dataset_1_photons_1.hdf5": "005d2adeda7db034b388112661265656",
    "dataset_1_photons_2.hdf5": "4767715ed56e99565fd9c67340661e70",
}


@dataclass(frozen=True)
class RecordFile:
    """One file listed by a Zenodo record.

    Attributes:
        key: the file name (sanitised: no path separators, no ``..``).
        url: the download URL (http or https).
        size: size in bytes, if the record gives it.
        md5: lower-case hex MD5, if the record gives it.
    """

    key: str
    url: str
    size: int | None = None
    md5: str | None = None


# --------------------------------------------------------------------------------------------- helpers


def resolve_base_url(base_url: str | None = None) -> str:
    """The Zenodo base URL: ``base_url``, else ``$CALOVQ_ZENODO_URL``, else :data:`DEFAULT_BASE_URL`.

    Raises:
        DownloadError: the URL is not http(s) or has no host.
    """
    url = base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
    _check_url(url)
    return url.rstrip("/")


def _check_url(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        msg = f"refusing URL {url!r}: only http:// and https:// URLs are allowed"
        raise DownloadError(msg)


def canonical_dataset(name: str) -> str:
    """Canonical dataset name for ``name`` (``"ds2"``, ``"dataset_2"``, ``"photons"`` ... are accepted).

    Raises:
        DownloadError: not one of the four CaloChallenge datasets.
    """
    key = str(name).strip()
    if key not in DATASET_RECORDS and not key.lower().endswith(".xml"):
        from calovq.geometry import get_geometry

        with contextlib.suppress(CaloVQError):
            key = get_geometry(key).name
    if key not in DATASET_RECORDS:
        msg = f"unknown dataset {name!r}; valid names: {', '.join(DATASET_NAMES)}"
        raise DownloadError(msg)
    return key


def _safe_name(key: object) -> str:
    name = str(key) if isinstance(key, str) else ""
    bad = (
        not name
        or name in (".", "..")
        or ".." in name
        or "/" in name
        or "\\" in name
        or "\x00" in name
        or name.startswith(".")
        or Path(name).name != name
    )
    if bad:
        msg = f"refusing unsafe file name {key!r} from the Zenodo record"
        raise DownloadError(msg)
    return name


def md5sum(path: str | Path, chunk_size: int = _CHUNK) -> str:
    """The lower-case hex MD5 of a file, read in chunks of ``chunk_size`` bytes."""
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk_size), b""):
            h.update(block)
    return h.hexdigest()


def _human(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover


class _SafeRedirect(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to http(s) URLs."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        _check_url(urllib.parse.urljoin(req.full_url, newurl))
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(_SafeRedirect())


def _user_agent() -> str:
    from calovq import __version__

    return f"calovq/{__version__} (+https://github.com/calovq)"


class _Transient(Exception):
    """A failure worth retrying (timeout, reset connection, short body, HTTP 5xx/429)."""


class _Restart(Exception):
    """The partial file cannot be resumed; start again from byte 0."""


def _is_transient(exc: BaseException) -> bool:
    """Network trouble worth another try; local errors (a full disk) and HTTP 4xx are not."""
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code in _TRANSIENT_HTTP
    if isinstance(exc, urllib.error.URLError):
        return isinstance(exc.reason, OSError)
    return isinstance(exc, (_Transient, TimeoutError, socket.timeout, ConnectionError, http.client.HTTPException))


def _describe(exc: BaseException) -> str:
    """A one-line description of a network error."""
    if isinstance(exc, urllib.error.HTTPError):
        text = f"HTTP {exc.code} {exc.reason}"
    elif isinstance(exc, urllib.error.URLError):
        text = str(exc.reason)
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def _sleep_backoff(attempt: int, backoff: float) -> None:
    if backoff > 0:
        time.sleep(min(backoff * 2**attempt, _MAX_BACKOFF_S))


# ---------------------------------------------------------------------------------------------- record


def _parse_files(data: Any, base: str, record_id: int) -> list[RecordFile]:
    files = data.get("files") if isinstance(data, dict) else None
    if isinstance(files, dict):  # some API versions: {"entries": [...] or {name: {...}}}
        files = files.get("entries", files)
        if isinstance(files, dict):
            files = [dict(v, key=v.get("key", k)) if isinstance(v, dict) else v for k, v in files.items()]
    if not isinstance(files, list):
        msg = f"Zenodo record {record_id} lists no files (unexpected API response from {base})"
        raise DownloadError(msg)
    out: list[RecordFile] = []
    for entry in files:
        if not isinstance(entry, dict):
            continue
        key = _safe_name(entry.get("key") or entry.get("filename"))
        raw_links = entry.get("links")
        links = raw_links if isinstance(raw_links, dict) else {}
        url = links.get("content") or links.get("self") or links.get("download")
        if not isinstance(url, str) or not url:
            url = f"{base}/records/{record_id}/files/{urllib.parse.quote(key)}"
        url = urllib.parse.urljoin(base + "/", url)
        _check_url(url)
        size = entry.get("size", entry.get("filesize"))
        checksum = entry.get("checksum")
        md5 = None
        if isinstance(checksum, str) and checksum:
            algo, _, digest = checksum.partition(":")
            if not digest:  # older deposit API: a bare MD5
                algo, digest = "md5", algo
            if algo.lower() == "md5" and len(digest) == 32:
                md5 = digest.lower()
        out.append(RecordFile(key=key, url=url, size=int(size) if isinstance(size, (int, float)) else None, md5=md5))
    return out


def fetch_record(
    record_id: int,
    base_url: str | None = None,
    *,
    timeout: float = 30.0,
    retries: int = 3,
    backoff: float = 1.0,
) -> list[RecordFile]:
    """List the files of a Zenodo record through ``GET {base}/api/records/{record_id}``.

    Args:
        record_id: the Zenodo record id (e.g. 8099322).
        base_url: Zenodo server (see :func:`resolve_base_url`).
        timeout: socket timeout in seconds.
        retries: further attempts after a transient failure (timeouts, HTTP 5xx/429).
        backoff: first wait between attempts in seconds (doubled each time, capped at 30 s).

    Returns:
        The files, each with its sanitised name, download URL, size and MD5 (where published).

    Raises:
        DownloadError: the record does not exist, cannot be reached, or the answer is not a record.
    """
    base = resolve_base_url(base_url)
    url = f"{base}/api/records/{int(record_id)}"
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": _user_agent()})
    opener = _opener()
    body = b""
    for attempt in range(retries + 1):
        try:
            with opener.open(request, timeout=timeout) as resp:
                body = resp.read()
            break
        except (OSError, http.client.HTTPException) as exc:
            if isinstance(exc, urllib.error.HTTPError):
                exc.close()
                if exc.code == 404:
                    msg = f"Zenodo record {record_id} not found at {url} (HTTP 404)"
                    raise DownloadError(msg) from None
            if not _is_transient(exc) or attempt == retries:
                msg = f"cannot fetch Zenodo record {record_id} from {url}: {_describe(exc)}"
                raise DownloadError(msg) from None
        _sleep_backoff(attempt, backoff)
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        msg = f"Zenodo record {record_id} at {url} is not valid JSON"
        raise DownloadError(msg) from None
    return _parse_files(data, base, int(record_id))


# ------------------------------------------------------------------------------------------ one file


def _part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def _check_space(directory: Path, needed: int) -> None:
    try:
        free = shutil.disk_usage(directory).free
    except OSError:
        return
    if needed > free:
        msg = f"not enough disk space in {directory}: need {_human(needed)}, {_human(free)} free"
        raise DownloadError(msg)


def _content_range_start(value: str | None) -> int | None:
    # "bytes 100-199/200"
    if not value or not value.strip().lower().startswith("bytes"):
        return None
    spec = value.strip()[5:].strip()
    start, _, _ = spec.partition("-")
    try:
        return int(start)
    except ValueError:
        return None


def _fetch_once(
    opener: urllib.request.OpenerDirector,
    url: str,
    part: Path,
    size: int | None,
    timeout: float,
    chunk_size: int,
    bar: Any,
) -> None:
    """One HTTP request appending to ``part``; returns when the server's body is complete."""
    offset = part.stat().st_size if part.exists() else 0
    if size is not None and offset > size:
        raise _Restart
    if size is not None and offset == size:
        return
    headers = {"User-Agent": _user_agent(), "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        resp = opener.open(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and offset:  # our .part is at least as long as the file
            raise _Restart from None
        raise
    with resp:
        if offset and resp.status == 206:
            start = _content_range_start(resp.headers.get("Content-Range"))
            if start != offset:
                raise _Restart
            mode = "ab"
        else:  # 200: the server ignored Range (or there was none): start from byte 0
            if offset:
                _log.info("server ignored the Range request for %s; restarting from zero", part.name)
            offset = 0
            mode = "wb"
        length = resp.headers.get("Content-Length")
        expected = int(length) if length and length.isdigit() else None
        if bar is not None:
            bar.reset(total=size if size is not None else (offset + expected if expected else None))
            bar.update(offset)
        received = 0
        with open(part, mode) as f:
            while True:
                block = resp.read(chunk_size)
                if not block:
                    break
                f.write(block)
                received += len(block)
                if bar is not None:
                    bar.update(len(block))
    if expected is not None and received < expected:
        msg = f"connection closed after {offset + received} bytes"
        raise _Transient(msg)
    if size is not None and offset + received < size:
        msg = f"connection closed after {offset + received} of {size} bytes"
        raise _Transient(msg)


def download_file(
    url: str,
    dest: str | Path,
    md5: str | None = None,
    size: int | None = None,
    *,
    overwrite: bool = False,
    resume: bool = True,
    progress: bool = True,
    timeout: float = 60.0,
    retries: int = 3,
    backoff: float = 1.0,
    chunk_size: int = _CHUNK,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Download ``url`` to ``dest`` through ``dest.part``, verify it, and rename it into place.

    An existing ``dest`` whose MD5 matches is kept and the download skipped (unless ``overwrite``). An
    existing ``dest.part`` is resumed with an HTTP ``Range`` request; if the server ignores ``Range``
    the file is fetched again from zero.

    Args:
        url: http(s) URL of the file.
        dest: final path of the file.
        md5: expected lower-case hex MD5; without it only ``size`` (if given) is checked.
        size: expected size in bytes, if known.
        overwrite: download again even if ``dest`` exists (the old file is replaced only on success).
        resume: resume an existing ``.part`` file and keep it after an interrupted transfer; with False
            any ``.part`` is discarded first and removed on every failure.
        progress: show a tqdm progress bar (bytes) on stderr.
        timeout: socket timeout in seconds.
        retries: further attempts after a transient failure (each one resumes where the last stopped).
        backoff: first wait between attempts in seconds (doubled each time, capped at 30 s).
        chunk_size: read size in bytes.
        log: receives one-line status messages (default: this module's logger at INFO level).

    Returns:
        ``dest`` as a :class:`~pathlib.Path`.

    Raises:
        ChecksumError: the download (or an existing ``dest``) does not match ``md5`` or ``size``; a
            corrupt download is deleted, ``.part`` included.
        OutputExistsError: ``dest`` exists, cannot be verified, and ``overwrite`` is False.
        OutputError: ``dest`` is a directory, or its folder cannot be created.
        DownloadError: HTTP error, unreachable server, or retries exhausted; after an interrupted
            transfer the ``.part`` file is kept for the next call to resume (unless ``resume=False``).
    """
    say = log or _log.info
    _check_url(url)
    dest = Path(dest)
    md5 = md5.lower() if md5 else None
    if dest.is_dir():
        msg = f"cannot write {dest}: it is a directory"
        raise OutputError(msg)
    if dest.exists() and not overwrite:
        _check_existing(dest, md5, size, say)
        return dest
    ensure_directory(dest.parent)
    part = _part_path(dest)
    if not resume:
        part.unlink(missing_ok=True)
    if size is not None:
        have = part.stat().st_size if part.exists() else 0
        _check_space(dest.parent, max(size - have, 0))
    if part.exists() and part.stat().st_size:
        say(f"resuming {dest.name} from {_human(part.stat().st_size)}")

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=size, unit="B", unit_scale=True, unit_divisor=1024, desc=dest.name, file=sys.stderr)
    opener = _opener()
    ok = False
    try:
        attempt = 0
        restarts = 0
        while True:
            try:
                _fetch_once(opener, url, part, size, timeout, chunk_size, bar)
                break
            except _Restart:
                restarts += 1
                part.unlink(missing_ok=True)
                if restarts > retries + 1:
                    msg = f"cannot download {url}: the server keeps sending inconsistent byte ranges"
                    raise DownloadError(msg) from None
                say(f"cannot resume {dest.name}; restarting from zero")
            except (_Transient, OSError, http.client.HTTPException) as exc:
                if isinstance(exc, urllib.error.HTTPError):
                    exc.close()
                transient = _is_transient(exc)
                if not transient or attempt >= retries:
                    what = f"download of {url} failed: {_describe(exc)}"
                    if transient and resume and part.exists() and part.stat().st_size:
                        what += f" (partial file kept at {part}; run again to resume)"
                    raise DownloadError(what) from None
                say(f"{dest.name}: {_describe(exc)}; retrying ({attempt + 1}/{retries})")
                _sleep_backoff(attempt, backoff)
                attempt += 1
        _verify(part, md5, size)
        part.replace(dest)
        ok = True
    except ChecksumError:
        part.unlink(missing_ok=True)
        raise
    finally:
        if bar is not None:
            bar.close()
        if not ok and part.exists() and (not resume or part.stat().st_size == 0):
            part.unlink(missing_ok=True)
    say(f"{dest.name}: {_human(dest.stat().st_size)}, " + ("MD5 verified" if md5 else "no checksum published"))
    return dest


def _mismatch(path: Path, md5: str | None, size: int | None) -> str | None:
    """Why ``path`` does not match the published size/MD5, or None when it does."""
    actual_size = path.stat().st_size
    if size is not None and actual_size != size:
        return f"size {actual_size} bytes, expected {size}"
    if md5 is not None:
        actual = md5sum(path)
        if actual != md5:
            return f"MD5 {actual}, expected {md5}"
    return None


def _verify(path: Path, md5: str | None, size: int | None) -> None:
    problem = _mismatch(path, md5, size)
    if problem:
        msg = f"checksum mismatch for {path.name.removesuffix('.part')}: {problem}; the download was deleted"
        raise ChecksumError(msg)


def _check_existing(dest: Path, md5: str | None, size: int | None, say: Callable[[str], None]) -> None:
    if md5 is None and size is None:
        msg = f"{dest} already exists and has no published checksum (pass --overwrite / overwrite=True)"
        raise OutputExistsError(msg)
    problem = _mismatch(dest, md5, size)
    if problem:
        msg = (
            f"{dest} already exists but does not match the record ({problem}); "
            "pass --overwrite / overwrite=True to download it again"
        )
        raise ChecksumError(msg)
    say(f"{dest.name}: already present and verified, skipped (use --overwrite to download again)")


# ---------------------------------------------------------------------------------------- a dataset


def _select(
    record: DatasetRecord, listed: Sequence[RecordFile], files: Iterable[str] | None, include_extras: bool
) -> list[RecordFile]:
    by_key = {f.key: f for f in listed}
    if files is not None:
        wanted = list(dict.fromkeys(files))
        allowed = set(record.files) | set(record.extras)
        unknown = [w for w in wanted if w not in allowed]
        if unknown:
            msg = (
                f"dataset {record.name} has no file {unknown[0]!r}; "
                f"choose from: {', '.join(record.files + record.extras)}"
            )
            raise DownloadError(msg)
    else:
        wanted = list(record.files)
        if include_extras:
            wanted += [x for x in record.extras if x in by_key]
    missing = [w for w in wanted if w not in by_key]
    if missing:
        msg = (
            f"Zenodo record {record.record_id} does not list {missing[0]!r} "
            f"(it lists: {', '.join(sorted(by_key)) or 'nothing'})"
        )
        raise DownloadError(msg)
    return [by_key[w] for w in wanted]


def download_dataset(
    name: str,
    dest: str | Path = "data",
    base_url: str | None = None,
    files: Iterable[str] | None = None,
    overwrite: bool = False,
    progress: bool = True,
    *,
    include_extras: bool = False,
    resume: bool = True,
    timeout: float = 60.0,
    retries: int = 3,
    backoff: float = 1.0,
    chunk_size: int = _CHUNK,
    log: Callable[[str], None] | None = None,
) -> list[Path]:
    """Download and verify the files of one CaloChallenge dataset into ``dest``.

    Args:
        name: ``"1-photons"``, ``"1-pions"``, ``"2"`` or ``"3"`` (aliases such as ``"ds2"`` work).
        dest: destination directory (created if needed).
        base_url: Zenodo server (default ``$CALOVQ_ZENODO_URL`` or https://zenodo.org).
        files: a subset of the dataset's file names (default: all its shower files).
        overwrite: download files again even if a verified copy exists.
        progress: show a tqdm progress bar per file on stderr.
        include_extras: also fetch the binning XML when the record lists it.
        resume: see :func:`download_file`.
        timeout: socket timeout in seconds.
        retries: further attempts per request after a transient failure.
        backoff: first wait between attempts in seconds.
        chunk_size: read size in bytes.
        log: receives one-line status messages (default: this module's logger).

    Returns:
        The paths of the requested files, in the dataset's order.

    Raises:
        DownloadError: unknown dataset or file, the record cannot be fetched, or a transfer fails.
        ChecksumError: a file (downloaded or already present) does not match its MD5.
    """
    say = log or _log.info
    record = DATASET_RECORDS[canonical_dataset(name)]
    listed = fetch_record(record.record_id, base_url, timeout=timeout, retries=retries, backoff=backoff)
    chosen = _select(record, listed, files, include_extras)
    out_dir = Path(dest)
    paths = []
    for entry in chosen:
        md5 = entry.md5
        known = KNOWN_MD5.get(entry.key)
        if md5 is None:
            md5 = known
        elif known is not None and known != md5:
            say(f"{entry.key}: the record's MD5 {md5} differs from the known {known}; using the record's")
        paths.append(
            download_file(
                entry.url,
                out_dir / entry.key,
                md5,
                entry.size,
                overwrite=overwrite,
                resume=resume,
                progress=progress,
                timeout=timeout,
                retries=retries,
                backoff=backoff,
                chunk_size=chunk_size,
                log=say,
            )
        )
    return paths
