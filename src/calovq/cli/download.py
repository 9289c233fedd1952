"""``calovq download DATASET``: fetch and verify the official CaloChallenge files from Zenodo."""

from __future__ import annotations

import argparse
import sys

from calovq.data.download import (
    DATASET_NAMES,
    DATASET_RECORDS,
    DEFAULT_BASE_URL,
    ENV_BASE_URL,
    download_dataset,
)

_EPILOG = (
    "records: "
    + "; ".join(f"{r.name}: doi:{r.doi} ({', '.join(r.files)})" for r in DATASET_RECORDS.values())
    + ". Each file is written to NAME.part, checked against the MD5 the Zenodo record publishes, and"
    " renamed to NAME only when it matches; an interrupted download is resumed by running the command"
    " again. On shared clusters (NFS, Lustre), reading the files may need HDF5_USE_FILE_LOCKING=FALSE"
    " in the environment; calovq does not set it for you."
)


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        msg = f"must be > 0, got {text}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        msg = f"must be >= 0, got {text}"
        raise argparse.ArgumentTypeError(msg)
    return value


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``download`` sub-command to ``sub``."""
    p = sub.add_parser(
        "download",
        help="download and verify a CaloChallenge dataset from Zenodo",
        description="Fetch the official CaloChallenge files from Zenodo and verify their MD5.",
        epilog=_EPILOG,
    )
    p.add_argument(
        "dataset",
        metavar="DATASET",
        help=f"one of {{{','.join(DATASET_NAMES)}}} (aliases such as ds2 or dataset_2 also work)",
    )
    p.add_argument("--dest", default="data", metavar="DIR", help="destination directory (default: ./data)")
    p.add_argument(
        "--base-url",
        default=None,
        metavar="URL",
        help=f"Zenodo server (default: ${ENV_BASE_URL} or {DEFAULT_BASE_URL})",
    )
    p.add_argument("--files", nargs="+", default=None, metavar="NAME", help="download only these files of the dataset")
    p.add_argument("--with-binning", action="store_true", help="also fetch the binning XML when the record lists it")
    p.add_argument("--overwrite", action="store_true", help="download again even if a verified file is already present")
    p.add_argument(
        "--no-resume",
        dest="resume",
        action="store_false",
        help="discard any partial .part file and never keep one after a failure",
    )
    p.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bars")
    p.add_argument("--timeout", type=_positive_float, default=60.0, metavar="S", help="socket timeout (default: 60)")
    p.add_argument("--retries", type=_count, default=3, metavar="N", help="retries after a network error (default: 3)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``calovq download`` with parsed ``args``; returns the exit status."""

    def log(message: str) -> None:
        print(message, file=sys.stderr)

    paths = download_dataset(
        args.dataset,
        args.dest,
        base_url=args.base_url,
        files=args.files,
        overwrite=args.overwrite,
        progress=args.progress,
        include_extras=args.with_binning,
        resume=args.resume,
        timeout=args.timeout,
        retries=args.retries,
        log=log,
    )
    for path in paths:
        print(path)
    return 0
