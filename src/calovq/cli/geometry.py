"""``calovq geometry NAME``: describe a geometry or export it as a CaloChallenge binning XML."""

from __future__ import annotations

import argparse

from calovq.geometry import GEOMETRY_NAMES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "geometry",
        help="describe a detector geometry or write its binning XML",
        description="Print the layers of a built-in geometry (or of a binning XML file); "
        "--xml writes it in the official binning XML format.",
    )
    p.add_argument("name", help=f"one of {', '.join(GEOMETRY_NAMES)}, or a binning .xml path")
    p.add_argument("--xml", metavar="OUT.xml", help="write the binning XML to this file")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --xml file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from calovq.data.atomic import atomic_write_text
    from calovq.geometry import geometry_to_xml, get_geometry

    geo = get_geometry(args.name)
    if args.xml:
        atomic_write_text(args.xml, geometry_to_xml(geo), overwrite=args.overwrite)
        print(f"wrote {args.xml}")
    else:
        print(geo.summary())
    return 0
