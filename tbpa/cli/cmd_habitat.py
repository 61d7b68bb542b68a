"""``tbpa habitat``: list land-cover schemes, reclassify a raster to the unified legend."""

from __future__ import annotations

__all__ = ["register"]


def register(subparsers) -> None:
    """Add ``tbpa habitat schemes`` and ``tbpa habitat reclassify``."""
    p = subparsers.add_parser("habitat", help="unified habitat legend and crosswalks",
                              description=__doc__)
    sub = p.add_subparsers(dest="habitat_command", metavar="ACTION")
    s = sub.add_parser("schemes", help="list the land-cover schemes with a crosswalk")
    s.set_defaults(func=_schemes)
    r = sub.add_parser("reclassify", help="translate a land-cover GeoTIFF to unified habitat codes")
    r.add_argument("raster", help="input land-cover raster (GeoTIFF)")
    r.add_argument("--scheme", required=True, help="source scheme (see `tbpa habitat schemes`)")
    r.add_argument("--out", required=True, help="output GeoTIFF (uint16 unified codes, 0 = nodata)")
    r.add_argument("--level", type=int, choices=(1, 2), default=2, help="unified legend level")
    r.add_argument("--unknown", choices=("raise", "nodata"), default="raise",
                   help="codes missing from the crosswalk: fail (default) or map to nodata")
    r.set_defaults(func=_reclassify)
    p.set_defaults(func=lambda args: (p.print_help(), 1)[1])


def _schemes(args) -> int:
    from ..habitat import crosswalk, schemes

    for name in schemes():
        cw = crosswalk(name)
        n_codes = cw["source_code"].nunique()
        n_amb = int((cw.groupby("source_code").size() > 1).sum())
        print(f"{name:<16} {n_codes:>3} codes, {n_amb:>2} ambiguous")
    return 0


def _reclassify(args) -> int:
    from ..habitat import reclassify
    from ..io import read_raster, write_raster

    src = read_raster(args.raster, masked=False)
    out = reclassify(src, args.scheme, level=args.level, unknown=args.unknown)
    unknown = out.attrs.pop("unknown_codes", {})
    out.attrs["unknown_codes"] = ",".join(f"{c}:{n}" for c, n in unknown.items())
    write_raster(out, args.out)
    print(f"wrote {args.out} ({out.attrs['scheme']} -> unified level {args.level})")
    return 0
