"""`underact view`: one offline HTML page of a robot in Drake's Meshcat, links coloured by actuation.

underact view acrobot --out acrobot.html
underact view robot.urdf --base fixed --q 0.3,-0.2 --out robot.html
"""

from __future__ import annotations

from types import SimpleNamespace

from underact.cli import argtypes
from underact.cli.core import model_flags, say_load_warnings
from underact.description import BASE_MODES
from underact.plants import BACKENDS, BUILTINS


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "view",
        help="write an offline 3-D page of a robot: actuated and passive joints coloured",
        description="Writes one self-contained HTML page (Drake's Meshcat, no server, no network) of a built-in "
        "or a URDF/SDF/MJCF file: links moved by actuated joints in orange, by passive joints in blue, with the "
        "class, the degree of underactuation and the unactuated directions (the file's verdict, as `underact "
        "classify`). Meshes that cannot be loaded are drawn as spheres and rods, with a warning.",
    )
    p.add_argument("model", help=f"built-in name ({', '.join(BUILTINS)}) or a .urdf / .sdf / MJCF .xml file")
    p.add_argument("--out", type=argtypes.output_file(".html", ".htm"), default="robot.html",
                   help="the page to write (default robot.html)")
    p.add_argument("--q", type=argtypes.vector, default=None,
                   help="positions in Drake's order, comma-separated (default: the model's default positions; "
                   "a floating base starts with its quaternion w,x,y,z then x,y,z)")
    p.add_argument(
        "--base",
        choices=BASE_MODES,
        default="auto",
        help="a file's base: as the file says (auto, the default), bolted to the world (fixed) or free (floating)",
    )
    p.add_argument("--backend", choices=BACKENDS, default=None,
                   help="also show `underact analyze` on this engine (rank of M⁻¹B over sampled configurations)")
    model_flags(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from underact.view.robot import write_view_html

    q = None if args.q is None else list(args.q)
    record = write_view_html(args.model, args.out, q=q, base=args.base, backend=args.backend,
                             actuation=args.actuation, strict=args.strict)
    say_load_warnings([SimpleNamespace(backend="drake", warnings=record["warnings"],
                                       parser_messages=record["parser_messages"])], args.verbose)
    if "engine" in record:  # what the page's own loading (Drake's, the same as `underact.load`'s) did not say
        engine = record["engine"]
        say_load_warnings([SimpleNamespace(
            backend=engine["backend"],
            warnings=[w for w in engine["warnings"] if w not in record["warnings"]],
            parser_messages=[m for m in engine["parser_messages"] if m not in record["parser_messages"]],
        )], args.verbose)
    degree = f", degree {record['degree']}" if record["degree"] else ""
    print(f"wrote {args.out}: {record['name']} ({record['class']}{degree}; {record['geometries']} link geometries)")
    return 0

