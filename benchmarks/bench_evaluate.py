"""Evaluation benchmark: ``python benchmarks/bench_evaluate.py --dataset 2 -n 20000 --epochs 50``.

A thin wrapper around ``calovq bench evaluate`` (see docs/benchmarks.md for recorded figures).
"""

from __future__ import annotations

import sys

from calovq.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["bench", "evaluate", *sys.argv[1:]]))
