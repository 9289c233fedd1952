"""``calovq demo``: the main job on the embedded simulator (what ``make demo`` runs)."""

from __future__ import annotations

import argparse

from calovq.cli.common import add_overwrite_argument


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="run the end-to-end job on the embedded simulator",
        description="Simulate a dataset, evaluate a sample against it with the CaloChallenge metrics, "
        "and write summary.txt, summary.png and evaluation/report.html.",
    )
    p.add_argument("--out", default="demo_output", help="output folder (default: demo_output)")
    p.add_argument("--dataset", "-d", default="2", help="geometry (default: 2)")
    p.add_argument("-n", "--n-events", type=int, default=3000, help="showers per sample (default: 3000)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--workers", type=int, default=None, help="simulation processes (default: all cores)")
    p.add_argument("--epochs", type=int, default=10, help="classifier epochs (official: 50)")
    p.add_argument("--no-progress", action="store_true")
    add_overwrite_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from calovq.demo import DemoConfig, run_demo

    cfg = DemoConfig(
        out=args.out,
        dataset=args.dataset,
        n_events=args.n_events,
        seed=args.seed,
        workers=args.workers,
        classifier_epochs=args.epochs,
        overwrite=args.overwrite,
        progress=not args.no_progress,
    )
    result = run_demo(cfg)
    print(f"report: {result['report']}")
    return 0
