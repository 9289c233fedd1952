"""``calovq bench simulate``: showers per second and peak memory of the embedded simulator."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate",
        help="simulator throughput (showers/s) and peak RSS",
        description="Time `calovq simulate` end to end into a temporary file; prints a line and JSON.",
    )
    p.add_argument("--dataset", "-d", default="2", help="geometry (default 2)")
    p.add_argument("-n", type=int, default=2000, help="number of showers (default 2000)")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: all CPUs)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--chunk-size", type=int, default=None)
    p.add_argument("--output", default=None, help="keep the file here instead of a temporary one")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from calovq.simulate.bench import bench_simulate

    result = bench_simulate(args.dataset, args.n, args.workers, args.seed, args.output, args.chunk_size)
    print(result.line())
    print(result.to_json())
    return 0
