"""Run every benchmark: ``.venv/bin/python -m benchmarks [NAME ...]``.

Imports each ``benchmarks/bench_*.py`` module in name order and calls its ``main()``; with arguments,
only the modules whose name contains one of them (``python -m benchmarks data_integrity``). One process,
one module after another: nothing runs in parallel, so figures are single-core figures.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    names = sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))
    if argv:
        names = [n for n in names if any(a in n for a in argv)]
        if not names:
            print(f"no benchmark matches {argv}", file=sys.stderr)
            return 2
    for i, name in enumerate(names):
        if i:
            print()
        print(f"== {name} ".ljust(88, "="))
        module = importlib.import_module(f"benchmarks.{name}")
        module.main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
