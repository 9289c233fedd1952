"""``calovq info FILE.h5``: validate a shower file and print a short summary."""

from __future__ import annotations

import argparse

from calovq.cli.common import add_dataset_argument


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "info",
        help="validate a CaloChallenge shower file and summarise it",
        description="Validate every shower of FILE (shape, NaN/inf, negative energies, truncation) and "
        "print a summary: events, incident-energy range, geometry, total-energy statistics, empty voxels.",
    )
    p.add_argument("file", help="CaloChallenge HDF5 file")
    add_dataset_argument(p, required=False)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from calovq.data.summary import summarize

    summary = summarize(args.file, args.dataset, progress=not args.no_progress)
    print(summary.to_json() if args.json else summary.to_text())
    return 0
