"""Run the benchmarks: `python bench/run.py [--only NAME] [--json] [--sizes]`.

Discovers `bench/bench_*.py`; each module exposes FIGURES = {"name": fn} where fn(base) gets the
shared `BenchBase` (bench/base.py) and returns {"value": float, "unit": "ms", "target": "…", …}.
`--only` takes a figure name or a module name (e.g. `foundation`), and may be repeated.
`--json` prints one JSON object on stdout: the headline numbers (SUMMARY_KEYS) at the top level,
every figure under "figures"; whatever the figures say in French goes to stderr.
`--sizes` builds (and caches) the 500, 2,000 and 8,000-family bases and prints the scaling table
(bench/sizes.py). Figures are medians of several runs; nothing here passes or fails on a timing.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
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
    line = f"{name} : {shown} {result.get('unit', '')}".rstrip()
    if result.get("ratio") is not None and result.get("unit") != "×":
        line += f", soit {result['ratio']}×"
    if result.get("target"):
        line += f" (cible {result['target']})"
    if result.get("load_1min") is not None:
        line += f" [charge {result['load_1min']}]"
    return line


# The headline numbers of `--json` (issue 14): key -> (figure, field of its result).
SUMMARY_KEYS = {
    "grid_click_idle_ms_1732": ("grid_click_idle_ms_1732", "value"),
    "grid_click_idle_ms_7000": ("grid_click_idle_ms_7000", "value"),
    "grid_click_after_action_ms_1732": ("grid_click_idle_ms_1732", "after_action_ms"),
    "grid_click_after_action_ms_7000": ("grid_click_idle_ms_7000", "after_action_ms"),
    "grid_click_model_calls_7000": ("grid_click_idle_ms_7000", "model_calls_per_click"),
    "grid_rectangle_idle_ms_1732": ("grid_rectangle_idle_ms_1732", "value"),
    "grid_rectangle_ratio": ("grid_rectangle_idle_ms_1732", "ratio"),
    "startup_ms": ("startup_ms", "value"),
    "startup_floor_ms": ("startup_floor_ms", "value"),
    "startup_ratio": ("startup_ms", "ratio"),
    "startup_filled_ms": ("startup_ms", "filled_ms"),
    "startup_filled_ratio": ("startup_ms", "filled_ratio"),
    "startup_filled_cpu_ratio": ("startup_ms", "filled_cpu_ratio"),
    # The start a clerk lives: the login dialog painted, then « Se connecter » to the filled list.
    "startup_login_ms": ("startup_login_ms", "value"),
    "startup_login_ratio": ("startup_login_ms", "ratio"),
    "login_enter_ms": ("login_enter_ms_1500", "value"),
    "grid_first_open_ms": ("grid_first_open_ms", "value"),
    "session_rss_mb_2000": ("session_rss_mb_2000", "value"),
    "session_rss_mb_8000": ("session_rss_mb_8000", "value"),
    "grid_open_ratio_466": ("grid_open_ratio_466", "value"),
    "grid_open_ratio_1066": ("grid_open_ratio_1066", "value"),
    "grid_open_ratio_1732": ("grid_open_ratio_1732", "value"),
    "grid_open_ratio_7126": ("grid_open_ratio_7126", "value"),
    "grid_open_ratio_466_postgresql": ("grid_open_ratio_466_postgresql", "value"),
    "grid_open_ratio_1066_postgresql": ("grid_open_ratio_1066_postgresql", "value"),
    "grid_open_ratio_1732_postgresql": ("grid_open_ratio_1732_postgresql", "value"),
    "grid_open_ratio_7126_postgresql": ("grid_open_ratio_7126_postgresql", "value"),
    "prepare_ms_8000": ("invoices_prepare_month_8000", "value"),
    # Issue 14: against the same drawing code without the database (the bare fpdf2 ratio stays the figure's value).
    "issue_ratio": ("invoices_issue_vs_bare_fpdf2", "ratio_vs_same_drawing"),
    "issue_ratio_cpu": ("invoices_issue_vs_bare_fpdf2", "ratio_vs_same_drawing_cpu"),
}


def summary(results: dict[str, dict]) -> dict:
    out = {}
    for key, (figure, field) in SUMMARY_KEYS.items():
        result = results.get(figure)
        if result is not None and isinstance(result.get(field), (int, float)):
            out[key] = result[field]
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Gandrange Desk benchmarks")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="a figure or module name (repeatable)")
    parser.add_argument("--json", action="store_true",
                        help="one JSON object: the headline numbers, and every figure under \"figures\"")
    parser.add_argument("--sizes", action="store_true",
                        help="the scaling table on bases of 500, 2,000 and 8,000 families")
    args = parser.parse_args(argv)
    if args.sizes:
        import sizes

        return sizes.main(as_json=args.json)
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
    # With --json, stdout holds the JSON object and nothing else: figures that print say it on stderr.
    quiet = contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext()
    for name, (_module, fn) in figures.items():
        try:
            with quiet:
                result = dict(fn(base))
            # Two shared cores: a figure means little without the load it was measured under.
            result.setdefault("load_1min", round(os.getloadavg()[0], 2))
        except Exception as exc:  # one broken figure must not hide the others
            failed = True
            result = {"value": None, "unit": "", "error": f"{type(exc).__name__}: {exc}"}
            traceback.print_exc(file=sys.stderr)
        results[name] = result
        print(format_line(name, result) if "error" not in result else f"{name} : ERREUR {result['error']}",
              file=sys.stderr if args.json else sys.stdout, flush=True)
    if args.json:
        document = summary(results)
        document["figures"] = results
        json.dump(document, sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
