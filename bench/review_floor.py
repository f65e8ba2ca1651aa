"""The floor of `podwall check` in bench_review: an argparse command with check's options that
reads the same manifests with the same YAML loader, and nothing of podwall (no model, no
validation, no engine). Started as `python -m bench.review_floor check -f DIR --from A --to B`,
like `python -m podwall`, so both pay for runpy.

What `check` costs above this line is podwall's own: its modules, their classes, validating
the objects and the verdict.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import yaml


def _parser() -> argparse.ArgumentParser:
    """`check`'s options, as podwall declares them (its help formatter aside)."""
    parser = argparse.ArgumentParser(prog="floor check")
    parser.add_argument("-f", "--filename", dest="paths", action="append", default=[])
    parser.add_argument("--git", dest="revisions", action="append", default=[])
    parser.add_argument("--cluster", dest="up", action="store_true")
    parser.add_argument("--kubeconfig", metavar="PATH")
    parser.add_argument("--context", metavar="NAME")
    parser.add_argument("--from", dest="src", required=True, metavar="SRC")
    parser.add_argument("--to", dest="dst", required=True, metavar="DST")
    parser.add_argument("-n", "--namespace", default="default")
    parser.add_argument("-o", "--output", dest="fmt", choices=("text", "json"), default="text")
    return parser


def check(paths: Sequence[str], src: str, dst: str) -> None:
    """Read every manifest under `paths` and print how many documents they hold."""
    count = 0
    for folder in paths:
        for name in sorted(os.listdir(folder)):
            with open(os.path.join(folder, name), encoding="utf-8") as file:
                count += sum(1 for _ in yaml.load_all(file.read(), Loader=yaml.CSafeLoader))
    sys.stdout.write(f"{count} documents, {src} -> {dst}\n")


def main(argv: Sequence[str]) -> None:
    if not argv or argv[0] != "check":
        sys.exit("usage: floor check -f PATH --from SRC --to DST")
    args = _parser().parse_intermixed_args(argv[1:])
    check(args.paths, args.src, args.dst)


if __name__ == "__main__":
    main(sys.argv[1:])
