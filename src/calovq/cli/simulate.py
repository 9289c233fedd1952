"""``calovq simulate``: write simulated showers of a CaloChallenge geometry to an HDF5 file."""

from __future__ import annotations

import argparse

from calovq.cli.common import add_dataset_argument


def _energies(text: str) -> list[float]:
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        msg = f"--energies expects comma-separated numbers in MeV, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from exc
    if not values:
        msg = "--energies needs at least one value"
        raise argparse.ArgumentTypeError(msg)
    return values


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate",
        help="simulate showers with the embedded physics-based simulator",
        description="Simulate showers (GFlash EM showers, ATLAS pion model) into a CaloChallenge HDF5 file.",
    )
    add_dataset_argument(p)
    p.add_argument("-n", type=int, required=True, help="number of showers")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("-o", "--output", required=True, help="output HDF5 file")
    p.add_argument("--energies", type=_energies, default=None, help="fixed incident energies in MeV, e.g. 1000,5000")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: all CPUs)")
    p.add_argument("--chunk-size", type=int, default=None, help="showers per block (part of the seed stream)")
    p.add_argument("--stochastic-term", type=float, default=None, help="Par04 sampling term c in sqrt(GeV)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from calovq.simulate import SimConfig, simulate_to_file

    config = SimConfig()
    if args.stochastic_term is not None:
        config = config.replace(stochastic_term=args.stochastic_term)
    path = simulate_to_file(
        args.output,
        args.dataset,
        args.n,
        args.seed,
        energies=args.energies,
        config=config,
        overwrite=args.overwrite,
        workers=args.workers,
        chunk_size=args.chunk_size,
        progress=not args.no_progress,
    )
    print(f"wrote {args.n} showers of geometry {args.dataset} to {path}")
    return 0
