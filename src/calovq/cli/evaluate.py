"""``calovq evaluate GENERATED.h5 REFERENCE.h5 --dataset NAME -o OUTDIR``: the CaloChallenge metric suite."""

from __future__ import annotations

import argparse
import sys

from calovq.cli.common import add_dataset_argument, add_overwrite_argument

_METRIC_HELP = "metrics to compute (default: hist fpd kpd prdc cls-low cls-high; add cls-resnet for datasets 2/3)"


def register(sub: argparse._SubParsersAction) -> None:
    from calovq.evaluate.pipeline import ALL_METRICS, DEFAULT_METRICS

    p = sub.add_parser(
        "evaluate",
        help="compare a generated shower file with a reference file (CaloChallenge metrics)",
        description="Compute the CaloChallenge 2022 metrics (arXiv:2410.21611) of GENERATED against "
        "REFERENCE: separation power of the feature histograms, FPD/KPD, precision/recall/density/"
        "coverage and classifier AUC/JSD, plus a reference floor from two halves of REFERENCE. Writes "
        "OUTDIR/metrics.json, summary.txt, report.html and plots/.",
    )
    p.add_argument("generated", help="generated showers (CaloChallenge HDF5)")
    p.add_argument("reference", help="reference showers (CaloChallenge HDF5)")
    add_dataset_argument(p)
    p.add_argument("-o", "--outdir", required=True, help="output directory")
    p.add_argument("--metrics", nargs="+", choices=ALL_METRICS, default=list(DEFAULT_METRICS), help=_METRIC_HELP)
    p.add_argument("--epochs", type=int, default=50, help="classifier epochs (official: 50)")
    p.add_argument("--repeats", type=int, default=1, help="classifier repetitions, mean and spread (official: 10)")
    p.add_argument("--classifier-width", type=int, default=None, help="classifier hidden width (default 2048)")
    p.add_argument("--no-floor", action="store_true", help="skip the reference floor (two reference halves)")
    p.add_argument("--max-events", type=int, default=None, help="use at most N events of each file")
    p.add_argument("--prdc-max-events", type=int, default=None, help="cap the events entering PRDC")
    p.add_argument("--seed", type=int, default=0, help="seed of the reference split and the classifiers")
    p.add_argument("--device", default="cpu", help="torch device of the classifiers (cpu, cuda, cuda:1)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars and messages")
    add_overwrite_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from calovq.evaluate.pipeline import evaluate_files
    from calovq.evaluate.report import summary_text
    from calovq.exceptions import CaloVQError

    for name in ("epochs", "repeats", "max_events", "prdc_max_events", "classifier_width"):
        value = getattr(args, name)
        if value is not None and value < 1:
            msg = f"--{name.replace('_', '-')} must be >= 1, got {value}"
            raise CaloVQError(msg)
    progress = not args.no_progress

    def log(message: str) -> None:
        if progress:
            print(message, file=sys.stderr)

    result = evaluate_files(
        args.generated,
        args.reference,
        args.dataset,
        args.outdir,
        metrics=args.metrics,
        overwrite=args.overwrite,
        classifier_epochs=args.epochs,
        classifier_repeats=args.repeats,
        reference_floor=not args.no_floor,
        max_events=args.max_events,
        seed=args.seed,
        progress=progress,
        device=args.device,
        prdc_max_events=args.prdc_max_events,
        classifier_width=args.classifier_width,
        plots=not args.no_plots,
        log=log,
    )
    print(summary_text(result), end="")
    print(f"outputs: {args.outdir}/report.html, metrics.json, summary.txt")
    return 0
