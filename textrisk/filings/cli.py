"""``textrisk compare OLD NEW``: year-over-year change between two filings (a table, and JSON with --out).

    textrisk compare FB_10-K_2017-02-03_item1A.txt FB_10-K_2018-02-01_item1A.txt --out fb_change.json
"""

from __future__ import annotations

import argparse
import sys

from ..models.backends import BACKEND_HELP, BACKENDS
from ..utils.args import int_at_least

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the ``compare`` sub-command."""
    parser.add_argument("old", metavar="OLD", help="the earlier filing (.txt, .htm or .html)")
    parser.add_argument("new", metavar="NEW", help="the later filing")
    parser.add_argument("--out", help="write the full comparison as JSON (atomically)")
    parser.add_argument("--model", help="model folder, Hub id or embedded model name: "
                        "default, commercial (default: default)")
    parser.add_argument("--form", help="form of both files (default: from the file names, else their covers)")
    parser.add_argument("--encoding", default="utf-8", help="file encoding (default utf-8; e.g. latin-1)")
    parser.add_argument("--batch-size", type=int_at_least(1), default=32,
                        help="passages per forward pass (default 32)")
    parser.add_argument("--threads", type=int_at_least(1), help="torch CPU threads")
    parser.add_argument("--backend", choices=BACKENDS, default="auto",
                        help=BACKEND_HELP)
    parser.add_argument("--show", type=int_at_least(0), default=3, help="passages shown per kind of change "
                                                                        "(default 3)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr (shown on a terminal "
                                                                   "for long filings)")


def run(args: argparse.Namespace) -> int:
    """Compare the two files, print the table, write JSON if asked; returns the exit status."""
    from ..errors import InputError
    from ..scoring.analyzer import RiskAnalyzer
    from ..utils.atomic import atomic_write_json
    from ..utils.outputs import guard_output
    from .analyzer import FilingAnalyzer
    from .documents import form_from_name, read_filing

    if args.out:  # before any work: the path guard of every command that writes
        guard_output(args.out, "--out", inputs={"OLD": args.old, "NEW": args.new})
    texts = []
    for path in (args.old, args.new):
        try:
            text = read_filing(path, args.encoding)
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
        if not text.strip():
            raise InputError(f"{path} is empty")
        texts.append(text)
    analyzer = FilingAnalyzer(RiskAnalyzer.from_pretrained(args.model, batch_size=args.batch_size,
                                                           num_threads=args.threads, backend=args.backend))
    try:
        comparison = analyzer.compare(texts[0], texts[1], old_form=args.form or form_from_name(args.old),
                                      new_form=args.form or form_from_name(args.new),
                                      progress=False if args.no_progress else None)
    except InputError as exc:  # name the file, not its index
        raise InputError(str(exc).replace("texts[0]", str(args.old)).replace("texts[1]", str(args.new))) from None
    sys.stdout.write(comparison.table(show=args.show))
    if args.out:
        atomic_write_json(args.out, comparison.to_dict())
        print(f"wrote {args.out}", file=sys.stderr)
    return 0
