"""Run the benchmarks: `python bench/run.py [--only NAME] [--json]`.

Discovers `bench/bench_*.py`; each module exposes FIGURES = {"name": fn} where fn(base) gets the
shared `BenchBase` (bench/base.py) and returns {"value": float, "unit": "ms", "target": "…", …}.
`--only` takes a figure name or a module name (e.g. `foundation`), and may be repeated.
Figures are medians of several runs; nothing here passes or fails on a timing.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from base import BenchBase  # noqa: E402


def discover() -> dict[str, tuple[str, object]]:
    figures: dict[str, tuple[str, object]] = {}
    for path in sorted(HERE.glob("bench_*.py")):
        module_name = path.stem
        module = importlib.import_module(module_name)
        for name, fn in getattr(module, "FIGURES", {}).items():
            figures[name] = (module_name.removeprefix("bench_"), fn)
    return figures


def format_line(name: str, result: dict) -> str:
    value = result.get("value")
    shown = f"{value:.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    line = f"{name}: {shown} {result.get('unit', '')}".rstrip()
    if result.get("target"):
        line += f" (target {result['target']})"
    return line


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Gandrange Desk benchmarks")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="a figure or module name (repeatable)")
    parser.add_argument("--json", action="store_true", help="one JSON object {name: {value, unit, …}}")
    args = parser.parse_args(argv)
    figures = discover()
    if args.only:
        wanted = set(args.only)
        figures = {n: f for n, f in figures.items() if n in wanted or f[0] in wanted}
        if not figures:
            print(f"No figure or module named {', '.join(sorted(wanted))}.", file=sys.stderr)
            return 2
    base = BenchBase(quiet=args.json)
    results: dict[str, dict] = {}
    failed = False
    for name, (_module, fn) in figures.items():
        try:
            result = dict(fn(base))
        except Exception as exc:  # one broken figure must not hide the others
            failed = True
            result = {"value": None, "unit": "", "error": f"{type(exc).__name__}: {exc}"}
            traceback.print_exc(file=sys.stderr)
        results[name] = result
        if not args.json:
            print(format_line(name, result) if "error" not in result else f"{name}: ERROR {result['error']}",
                  flush=True)
    if args.json:
        json.dump(results, sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
