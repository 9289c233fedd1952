"""Simulator benchmark: ``python benchmarks/bench_simulate.py --dataset 2 -n 2000 --workers 2``.

A thin wrapper around ``calovq bench simulate`` (see docs/benchmarks.md for recorded figures).
"""

from __future__ import annotations

import sys

from calovq.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["bench", "simulate", *sys.argv[1:]]))
