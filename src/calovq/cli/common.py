"""Argument helpers shared by several commands."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Iterable

from calovq.geometry import GEOMETRY_NAMES


def add_dataset_argument(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """``--dataset NAME`` accepting a built-in geometry name or a binning XML path."""
    parser.add_argument(
        "--dataset",
        "-d",
        required=required,
        default=None,
        metavar="NAME",
        help=f"geometry: one of {', '.join(GEOMETRY_NAMES)}, or a binning .xml file"
        + ("" if required else " (default: guessed from the voxel count)"),
    )


def add_overwrite_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")


def register_commands(sub: argparse._SubParsersAction, modules: Iterable[str]) -> None:
    """Import each command module and let it add its parser (``module.register(sub)``)."""
    for name in modules:
        importlib.import_module(name).register(sub)
