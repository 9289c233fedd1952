"""``calovq bench evaluate``: wall time and peak memory of ``calovq evaluate`` on simulated files."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from calovq.evaluate.pipeline import ALL_METRICS, DEFAULT_METRICS

    p = sub.add_parser(
        "evaluate",
        help="evaluation wall time and peak RSS on simulated files",
        description="Simulate two samples (seeds S and S+1), evaluate one against the other in a child "
        "process and report its wall time and peak resident memory; prints a line and JSON.",
    )
    p.add_argument("--dataset", "-d", default="2", help="geometry (default 2)")
    p.add_argument("-n", type=int, default=20000, help="showers per sample (default 20000)")
    p.add_argument("--metrics", nargs="+", choices=ALL_METRICS, default=list(DEFAULT_METRICS))
    p.add_argument("--epochs", type=int, default=50, help="classifier epochs (default 50)")
    p.add_argument("--no-floor", action="store_true", help="skip the reference floor")
    p.add_argument("--prdc-max-events", type=int, default=None, help="cap the events entering PRDC")
    p.add_argument("--distort", action="store_true", help="evaluate a deliberately distorted copy")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workdir", default=None, help="keep files and outputs here (default: temporary)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from calovq.evaluate.bench import bench_evaluate

    result = bench_evaluate(
        args.dataset,
        args.n,
        metrics=args.metrics,
        classifier_epochs=args.epochs,
        reference_floor=not args.no_floor,
        seed=args.seed,
        workdir=args.workdir,
        distort=args.distort,
        prdc_max_events=args.prdc_max_events,
    )
    print(result.line())
    print(result.to_json())
    return 0
