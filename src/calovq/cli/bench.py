"""``calovq bench ...``: speed and memory benchmarks (figures go to docs/benchmarks.md, never to tests)."""

from __future__ import annotations

import argparse

from calovq.cli.common import register_commands

#: Modules providing ``register(subparsers)`` for ``calovq bench NAME``.
BENCH_MODULES = ("calovq.cli.bench_simulate", "calovq.cli.bench_evaluate")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="run a speed/memory benchmark", description=__doc__)
    bench_sub = p.add_subparsers(dest="bench", metavar="BENCHMARK")
    register_commands(bench_sub, BENCH_MODULES)
    p.set_defaults(func=lambda args: p.print_help() or 2)
