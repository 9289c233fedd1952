"""``calovq download``: tested against a real HTTP server on 127.0.0.1 that imitates Zenodo."""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from calovq.cli.main import main
from calovq.data.download import (
    DATASET_RECORDS,
    KNOWN_MD5,
    canonical_dataset,
    download_dataset,
    download_file,
    fetch_record,
    md5sum,
    resolve_base_url,
)
from calovq.exceptions import ChecksumError, DownloadError, OutputError, OutputExistsError

DS1 = DATASET_RECORDS["1-photons"].record_id
_rng = random.Random(1234)
FILES = {
    "dataset_1_photons_1.hdf5": _rng.randbytes(200_003),
    "dataset_1_photons_2.hdf5": _rng.randbytes(50_000),
    "dataset_1_pions_1.hdf5": _rng.randbytes(30_000),
    "dataset_1_pions_2.hdf5": _rng.randbytes(30_000),
    "binning_dataset_1_photons.xml": b"<Bins></Bins>\n",
}
PHOTONS_1 = "dataset_1_photons_1.hdf5"
PIONS_1 = "dataset_1_pions_1.hdf5"  # no known MD5: the record decides
FAST: dict[str, Any] = {"progress": False, "backoff": 0.0, "chunk_size": 8192, "timeout": 5.0}


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


class _Server(ThreadingHTTPServer):
    """Fake Zenodo: record JSON at /api/records/ID, file bytes at /files/KEY and /records/ID/files/KEY."""

    daemon_threads = False  # server_close() joins the handler threads: no socket outlives a test

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.base = f"http://127.0.0.1:{self.server_address[1]}"
        self.files = dict(FILES)
        #: per-file behaviour: good, corrupt, cut, ignore_range, 404, 500, stall, redirect, redirect_ftp
        self.mode: dict[str, str] = {}
        #: how many more requests get the special behaviour (afterwards the file is served well)
        self.times: dict[str, int] = {}
        self.record_status = 200
        self.record_entries: list[dict[str, Any]] | None = None  # None: built from ``files``
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header)
        self.statuses: list[int] = []
        self.release = threading.Event()
        self.lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the client hanging up mid-transfer is part of the tests

    def entries(self) -> list[dict[str, Any]]:
        if self.record_entries is not None:
            return self.record_entries
        return [
            {
                "key": k,
                "size": len(v),
                "checksum": f"md5:{_md5(v)}",
                "links": {"self": f"{self.base}/files/{k}"},
            }
            for k, v in self.files.items()
        ]

    def file_requests(self, key: str) -> list[str | None]:
        return [rng for path, rng in self.requests if path.endswith("/" + key)]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.server.statuses.append(status)
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        srv = self.server
        srv.requests.append((self.path, self.headers.get("Range")))
        if m := re.fullmatch(r"/api/records/(\d+)", self.path):
            if srv.record_status != 200 or int(m.group(1)) != DS1:
                self._send(404 if int(m.group(1)) != DS1 else srv.record_status, b'{"status": 404}')
                return
            body = json.dumps({"id": DS1, "files": srv.entries()}).encode()
            self._send(200, body, {"Content-Type": "application/json"})
            return
        m = re.fullmatch(r"/(?:files|records/\d+/files)/([^/?]+)(\?direct)?", self.path)
        key = m.group(1) if m else ""
        if key not in srv.files:
            self._send(404, b"not found")
            return
        self._serve_file(key, direct=bool(m and m.group(2)))

    def _serve_file(self, key: str, direct: bool) -> None:
        srv = self.server
        with srv.lock:
            mode = "good" if direct else srv.mode.get(key, "good")
            if mode != "good":
                left = srv.times.get(key, 1_000_000)
                srv.times[key] = left - 1
                if left <= 0:
                    mode = "good"
        data = srv.files[key]
        if mode in ("404", "500"):
            self._send(int(mode), b"error page")
            return
        if mode == "redirect":
            self._send(302, b"", {"Location": f"/files/{key}?direct"})
            return
        if mode == "redirect_ftp":
            self._send(302, b"", {"Location": f"ftp://127.0.0.1/{key}"})
            return
        if mode == "corrupt":
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        start = 0
        rng = self.headers.get("Range")
        if rng and mode != "ignore_range":
            start = int(re.fullmatch(r"bytes=(\d+)-", rng).group(1))  # type: ignore[union-attr]
            if start >= len(data):
                self._send(416, b"", {"Content-Range": f"bytes */{len(data)}"})
                return
        body = data[start:]
        status = 206 if start else 200
        srv.statuses.append(status)
        self.send_response(status)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if mode in ("cut", "stall"):
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            if mode == "stall":
                srv.release.wait(5)
            self.close_connection = True
            return
        self.wfile.write(body)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("CALOVQ_ZENODO_URL", raising=False)


@pytest.fixture
def zenodo() -> Iterator[_Server]:
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def _url(server: _Server, key: str = PHOTONS_1) -> str:
    return f"{server.base}/files/{key}"


def _get(server: _Server, dest: Path, key: str = PHOTONS_1, **kw: Any) -> Path:
    data = FILES[key]
    return download_file(_url(server, key), dest / key, _md5(data), len(data), **{**FAST, **kw})


# ------------------------------------------------------------------------------------------- basics


def test_md5sum_streams_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(FILES[PHOTONS_1])
    assert md5sum(path, chunk_size=1000) == _md5(FILES[PHOTONS_1])


@pytest.mark.parametrize(
    ("alias", "name"), [("ds2", "2"), ("dataset_3", "3"), ("photons", "1-photons"), ("1-pions", "1-pions")]
)
def test_canonical_dataset_aliases(alias: str, name: str) -> None:
    assert canonical_dataset(alias) == name


@pytest.mark.parametrize("bad", ["tiny", "4", "binning.xml", ""])
def test_canonical_dataset_refuses_others(bad: str) -> None:
    with pytest.raises(DownloadError, match="unknown dataset"):
        canonical_dataset(bad)


def test_official_records() -> None:
    assert {k: r.record_id for k, r in DATASET_RECORDS.items()} == {
        "1-photons": 8099322,
        "1-pions": 8099322,
        "2": 6366270,
        "3": 6366323,
    }
    assert DATASET_RECORDS["3"].files == tuple(f"dataset_3_{i}.hdf5" for i in range(1, 5))
    assert KNOWN_MD5["dataset_1_photons_2.hdf5"] == "4767715ed56e99565fd9c67340661e70"


def test_base_url_from_env_and_scheme_check(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_base_url() == "https://zenodo.org"
    monkeypatch.setenv("CALOVQ_ZENODO_URL", "http://mirror.example/")
    assert resolve_base_url() == "http://mirror.example"
    assert resolve_base_url("https://other.example") == "https://other.example"
    for bad in ("file:///etc/passwd", "ftp://zenodo.org", "zenodo.org"):
        with pytest.raises(DownloadError, match="only http"):
            resolve_base_url(bad)


# ------------------------------------------------------------------------------------------- record


def test_fetch_record_lists_files(zenodo: _Server) -> None:
    files = {f.key: f for f in fetch_record(DS1, zenodo.base, retries=0)}
    assert set(files) == set(FILES)
    f = files[PHOTONS_1]
    assert (f.size, f.md5, f.url) == (len(FILES[PHOTONS_1]), _md5(FILES[PHOTONS_1]), _url(zenodo))


def test_fetch_record_old_layout_without_links(zenodo: _Server, tmp_path: Path) -> None:
    data = FILES["dataset_1_pions_1.hdf5"]
    zenodo.record_entries = [{"filename": "dataset_1_pions_1.hdf5", "filesize": len(data), "checksum": _md5(data)}]
    (entry,) = fetch_record(DS1, zenodo.base, retries=0)
    assert entry.url == f"{zenodo.base}/records/{DS1}/files/dataset_1_pions_1.hdf5"
    assert entry.md5 == _md5(data)
    (path,) = download_dataset("1-pions", tmp_path, zenodo.base, files=["dataset_1_pions_1.hdf5"], retries=0, **FAST)
    assert path.read_bytes() == data


def test_record_not_found_and_server_error(zenodo: _Server) -> None:
    with pytest.raises(DownloadError, match=r"record 6366270 not found"):
        fetch_record(6366270, zenodo.base, retries=0)
    zenodo.record_status = 503
    with pytest.raises(DownloadError, match="HTTP 503"):
        fetch_record(DS1, zenodo.base, retries=1, backoff=0.0)
    assert sum(p == f"/api/records/{DS1}" for p, _ in zenodo.requests) == 2  # one retry, then give up


@pytest.mark.parametrize("key", ["../evil.hdf5", "sub/dataset.hdf5", "..", ".hidden", "a\\b"])
def test_unsafe_file_names_are_refused(zenodo: _Server, key: str) -> None:
    zenodo.record_entries = [{"key": key, "size": 1, "checksum": "md5:" + "0" * 32}]
    with pytest.raises(DownloadError, match="unsafe file name"):
        fetch_record(DS1, zenodo.base, retries=0)


def test_non_http_links_are_refused(zenodo: _Server) -> None:
    zenodo.record_entries = [{"key": PHOTONS_1, "links": {"self": "file:///etc/passwd"}}]
    with pytest.raises(DownloadError, match="only http"):
        fetch_record(DS1, zenodo.base, retries=0)


# ----------------------------------------------------------------------------------------- datasets


def test_download_dataset_good(zenodo: _Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "data"
    paths = download_dataset("1-photons", dest, zenodo.base, **{**FAST, "progress": True})
    assert paths == [dest / "dataset_1_photons_1.hdf5", dest / "dataset_1_photons_2.hdf5"]
    for p in paths:
        assert p.read_bytes() == FILES[p.name]
    assert sorted(x.name for x in dest.iterdir()) == [p.name for p in paths]  # no .part, no extras
    assert "dataset_1_photons_1.hdf5" in capsys.readouterr().err  # the tqdm bar went to stderr


def test_download_with_binning_and_subset(zenodo: _Server, tmp_path: Path) -> None:
    paths = download_dataset("photons", tmp_path, zenodo.base, include_extras=True, **FAST)
    assert [p.name for p in paths][-1] == "binning_dataset_1_photons.xml"
    sub = download_dataset("1-pions", tmp_path / "s", zenodo.base, files=["dataset_1_pions_2.hdf5"], **FAST)
    assert [p.name for p in sub] == ["dataset_1_pions_2.hdf5"]
    assert [p.name for p in (tmp_path / "s").iterdir()] == ["dataset_1_pions_2.hdf5"]
    with pytest.raises(DownloadError, match=r"has no file 'dataset_2_1\.hdf5'"):
        download_dataset("1-pions", tmp_path, zenodo.base, files=["dataset_2_1.hdf5"], **FAST)


def test_file_missing_from_record(zenodo: _Server, tmp_path: Path) -> None:
    del zenodo.files["dataset_1_photons_2.hdf5"]
    with pytest.raises(DownloadError, match=r"does not list 'dataset_1_photons_2\.hdf5'"):
        download_dataset("1-photons", tmp_path, zenodo.base, **FAST)
    assert list(tmp_path.iterdir()) == []


def test_known_md5_used_when_record_has_none(zenodo: _Server, tmp_path: Path) -> None:
    """Our fake bytes are not the real file, so the independently known MD5 must reject them."""
    zenodo.record_entries = [
        {"key": PHOTONS_1, "size": len(FILES[PHOTONS_1]), "links": {"self": _url(zenodo)}},
    ]
    with pytest.raises(ChecksumError, match=KNOWN_MD5[PHOTONS_1]):
        download_dataset("1-photons", tmp_path, zenodo.base, files=[PHOTONS_1], **FAST)
    assert list(tmp_path.iterdir()) == []


def test_existing_verified_file_is_skipped(zenodo: _Server, tmp_path: Path) -> None:
    _get(zenodo, tmp_path)
    messages: list[str] = []
    _get(zenodo, tmp_path, log=messages.append)
    assert len(zenodo.file_requests(PHOTONS_1)) == 1  # the second call did not download
    assert any("skipped" in m for m in messages)
    _get(zenodo, tmp_path, overwrite=True)
    assert len(zenodo.file_requests(PHOTONS_1)) == 2


def test_existing_wrong_file_is_reported_not_replaced(zenodo: _Server, tmp_path: Path) -> None:
    target = tmp_path / PHOTONS_1
    target.write_bytes(b"x" * len(FILES[PHOTONS_1]))
    with pytest.raises(ChecksumError, match=r"already exists but does not match.*--overwrite"):
        _get(zenodo, tmp_path)
    assert target.read_bytes() == b"x" * len(FILES[PHOTONS_1])  # the user's file is left alone
    assert zenodo.file_requests(PHOTONS_1) == []
    _get(zenodo, tmp_path, overwrite=True)
    assert target.read_bytes() == FILES[PHOTONS_1]


def test_existing_file_without_checksum_needs_overwrite(zenodo: _Server, tmp_path: Path) -> None:
    (tmp_path / "f.bin").write_bytes(b"old")
    with pytest.raises(OutputExistsError):
        download_file(_url(zenodo), tmp_path / "f.bin", **FAST)
    download_file(_url(zenodo), tmp_path / "f.bin", overwrite=True, **FAST)
    assert (tmp_path / "f.bin").read_bytes() == FILES[PHOTONS_1]


# ---------------------------------------------------------------------------------- transfer faults


def test_corrupt_file_raises_and_leaves_nothing(zenodo: _Server, tmp_path: Path) -> None:
    zenodo.mode[PHOTONS_1] = "corrupt"
    with pytest.raises(ChecksumError, match=r"checksum mismatch for dataset_1_photons_1\.hdf5"):
        _get(zenodo, tmp_path)
    assert list(tmp_path.iterdir()) == []  # neither the final file nor the .part


def test_failed_overwrite_keeps_the_old_file(zenodo: _Server, tmp_path: Path) -> None:
    old = tmp_path / PHOTONS_1
    old.write_bytes(b"previous version")
    zenodo.mode[PHOTONS_1] = "corrupt"
    with pytest.raises(ChecksumError):
        _get(zenodo, tmp_path, overwrite=True)
    assert old.read_bytes() == b"previous version"
    assert [p.name for p in tmp_path.iterdir()] == [PHOTONS_1]


def test_interrupted_transfer_keeps_part_and_resumes(zenodo: _Server, tmp_path: Path) -> None:
    data = FILES[PHOTONS_1]
    zenodo.mode[PHOTONS_1], zenodo.times[PHOTONS_1] = "cut", 1
    with pytest.raises(DownloadError, match=r"partial file kept at .*\.part") as info:
        _get(zenodo, tmp_path, retries=0)
    assert not isinstance(info.value, ChecksumError)
    part = tmp_path / (PHOTONS_1 + ".part")
    assert not (tmp_path / PHOTONS_1).exists()
    have = part.stat().st_size
    assert 0 < have < len(data)
    assert part.read_bytes() == data[:have]

    path = _get(zenodo, tmp_path, retries=0)
    assert zenodo.file_requests(PHOTONS_1) == [None, f"bytes={have}-"]
    assert 206 in zenodo.statuses
    assert md5sum(path) == _md5(data)
    assert not part.exists()


def test_interruption_is_retried_within_one_call(zenodo: _Server, tmp_path: Path) -> None:
    zenodo.mode[PHOTONS_1], zenodo.times[PHOTONS_1] = "cut", 2
    messages: list[str] = []
    path = _get(zenodo, tmp_path, retries=3, log=messages.append)
    reqs = zenodo.file_requests(PHOTONS_1)
    assert len(reqs) == 3
    assert reqs[0] is None
    assert all(r is not None and r.startswith("bytes=") for r in reqs[1:])
    assert path.read_bytes() == FILES[PHOTONS_1]
    assert sum("retrying" in m for m in messages) == 2


def test_retries_are_bounded(zenodo: _Server, tmp_path: Path) -> None:
    zenodo.mode[PHOTONS_1] = "cut"  # every time
    with pytest.raises(DownloadError, match="connection closed"):
        _get(zenodo, tmp_path, retries=2)
    assert len(zenodo.file_requests(PHOTONS_1)) == 3


def test_no_resume_removes_partial_file(zenodo: _Server, tmp_path: Path) -> None:
    zenodo.mode[PHOTONS_1], zenodo.times[PHOTONS_1] = "cut", 1
    with pytest.raises(DownloadError):
        _get(zenodo, tmp_path, retries=0, resume=False)
    assert list(tmp_path.iterdir()) == []


def test_server_ignoring_range_restarts_from_zero(zenodo: _Server, tmp_path: Path) -> None:
    data = FILES[PHOTONS_1]
    part = tmp_path / (PHOTONS_1 + ".part")
    part.write_bytes(b"garbage!" * 1000)  # a stale partial file that would corrupt an append
    zenodo.mode[PHOTONS_1] = "ignore_range"
    path = _get(zenodo, tmp_path)
    assert zenodo.file_requests(PHOTONS_1) == ["bytes=8000-"]
    assert zenodo.statuses[-1] == 200
    assert path.read_bytes() == data
    assert not part.exists()


def test_part_longer_than_file_restarts(zenodo: _Server, tmp_path: Path) -> None:
    data = FILES["dataset_1_pions_1.hdf5"]
    part = tmp_path / "dataset_1_pions_1.hdf5.part"
    part.write_bytes(b"\0" * (len(data) + 10))
    path = _get(zenodo, tmp_path, key="dataset_1_pions_1.hdf5")
    assert path.read_bytes() == data
    # without a known size the server's 416 triggers the restart
    (tmp_path / "b.hdf5.part").write_bytes(b"\0" * (len(data) + 10))
    path = download_file(_url(zenodo, "dataset_1_pions_1.hdf5"), tmp_path / "b.hdf5", _md5(data), **FAST)
    assert 416 in zenodo.statuses
    assert path.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.hdf5", "dataset_1_pions_1.hdf5"]


def test_http_404_is_a_clear_error(zenodo: _Server, tmp_path: Path) -> None:
    zenodo.mode[PHOTONS_1] = "404"
    with pytest.raises(DownloadError, match=r"download of http://127\.0\.0\.1:\d+/files/\S+ failed: HTTP 404"):
        _get(zenodo, tmp_path, retries=3)
    assert len(zenodo.file_requests(PHOTONS_1)) == 1  # a 404 is not retried
    assert list(tmp_path.iterdir()) == []


def test_http_500_is_retried_then_reported(zenodo: _Server, tmp_path: Path) -> None:
    zenodo.mode[PHOTONS_1] = "500"
    with pytest.raises(DownloadError, match="HTTP 500"):
        _get(zenodo, tmp_path, retries=2)
    assert len(zenodo.file_requests(PHOTONS_1)) == 3
    assert list(tmp_path.iterdir()) == []
    zenodo.times[PHOTONS_1] = 1  # one more failure, then the file is served
    assert _get(zenodo, tmp_path, retries=1).read_bytes() == FILES[PHOTONS_1]


def test_stalled_server_times_out(zenodo: _Server, tmp_path: Path) -> None:
    zenodo.mode[PHOTONS_1] = "stall"
    with pytest.raises(DownloadError, match="timed out"):
        _get(zenodo, tmp_path, retries=0, timeout=0.3)
    zenodo.release.set()
    part = tmp_path / (PHOTONS_1 + ".part")
    assert 0 < part.stat().st_size < len(FILES[PHOTONS_1])


def test_redirects_followed_only_to_http(zenodo: _Server, tmp_path: Path) -> None:
    zenodo.mode[PHOTONS_1] = "redirect"
    assert _get(zenodo, tmp_path).read_bytes() == FILES[PHOTONS_1]
    zenodo.mode["dataset_1_pions_1.hdf5"] = "redirect_ftp"
    with pytest.raises(DownloadError, match="only http"):
        _get(zenodo, tmp_path, key="dataset_1_pions_1.hdf5")
    assert not (tmp_path / "dataset_1_pions_1.hdf5").exists()


# ---------------------------------------------------------------------------------------------- CLI


def test_cli_success(zenodo: _Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "d"
    argv = ["download", "1-photons", "--dest", str(dest), "--base-url", zenodo.base, "--no-progress"]
    assert main(argv) == 0
    out = capsys.readouterr().out.split()
    assert out == [str(dest / "dataset_1_photons_1.hdf5"), str(dest / "dataset_1_photons_2.hdf5")]
    assert md5sum(dest / PHOTONS_1) == _md5(FILES[PHOTONS_1])
    assert main(argv) == 0  # already there: skipped
    assert "skipped" in capsys.readouterr().err


def test_cli_env_base_url_and_files(
    zenodo: _Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CALOVQ_ZENODO_URL", zenodo.base)
    argv = ["download", "ds1-pions", "--dest", str(tmp_path), "--files", "dataset_1_pions_2.hdf5", "--no-progress"]
    assert main(argv) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["dataset_1_pions_2.hdf5"]
    capsys.readouterr()


@pytest.mark.parametrize(
    ("setup", "extra", "pattern"),
    [
        ({"mode": "corrupt"}, [], "checksum mismatch"),
        ({"mode": "404"}, [], "HTTP 404"),
        ({"mode": "cut"}, ["--retries", "0"], "connection closed"),
        ({}, ["--base-url", "file:///tmp"], "only http"),
    ],
)
def test_cli_failure_is_one_line(
    zenodo: _Server,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    setup: dict[str, str],
    extra: list[str],
    pattern: str,
) -> None:
    if "mode" in setup:
        zenodo.mode[PIONS_1] = setup["mode"]
    argv = ["download", "1-pions", "--dest", str(tmp_path), "--base-url", zenodo.base, "--no-progress"]
    assert main([*argv, *extra]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("calovq: error: ")
    assert re.search(pattern, lines[0])
    assert captured.out == ""
    assert not (tmp_path / PIONS_1).exists()


def test_cli_unknown_dataset(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["download", "7", "--dest", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("calovq: error: unknown dataset '7'")


def test_cli_help_mentions_file_locking(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["download", "--help"])
    assert info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "HDF5_USE_FILE_LOCKING=FALSE" in text
    assert "10.5281/zenodo.6366323" in text


def test_destination_that_cannot_be_written(tmp_path: Path) -> None:
    """A directory in the way of the file, or a file in the way of the folder, fails before any request."""
    (tmp_path / "taken").mkdir()
    with pytest.raises(OutputError, match="is a directory"):
        download_file("http://127.0.0.1:9/f", tmp_path / "taken", progress=False, retries=0)
    (tmp_path / "blocker").write_text("")
    with pytest.raises(OutputError, match="not a directory"):
        download_file("http://127.0.0.1:9/f", tmp_path / "blocker" / "f", progress=False, retries=0)
