"""The scaling table (`python bench/run.py --sizes [--json]`): the same operations on bases of
500, 2,000 and 8,000 families (built once each and cached in bench/.cache/), with the cost per
unit, so a figure that grows faster than the data shows at once.

- grid: the élémentaire's busiest month opened (query, model, first paint), per child shown;
- search: a family search per keystroke (median), per 1,000 families;
- accept: 5,000 pending requests accepted in one round, per request;
- prepare: a month's invoices prepared, per invoice (read from the billing bench as it is).
"""

from __future__ import annotations

import contextlib
import json
import sys

SIZES = (500, 2000, 8000)


def _rows(families: int) -> dict:
    from base import BenchBase

    import bench_families
    import bench_invoicing
    import bench_queue
    from bench_touch import SITE, open_ratio

    base = BenchBase(families=families, quiet=True)
    grid = open_ratio(base, families, SITE)
    search = bench_families.search_keystroke(base)
    accept = bench_queue.accept_5000(base)
    prepare = bench_invoicing.prepare_month(base)
    return {
        "families": families,
        "grid_ms": grid["value"], "grid_children": grid["children"],
        "grid_us_per_child": round(grid["value"] * 1000 / max(grid["children"], 1), 1),
        "grid_ratio": grid["ratio"],
        "search_ms": search["value"], "search_ms_per_1000_families": round(search["value"] * 1000 / families, 3),
        "accept_ms": accept["value"], "accept_us_per_request": round(accept["value"] * 1000 / accept["requests"], 1),
        "prepare_ms": prepare["value"], "invoices": prepare["invoices"],
        "prepare_ms_per_invoice": round(prepare["value"] / max(prepare["invoices"], 1), 3),
    }


def table(rows: list[dict]) -> str:
    head = (f"{'familles':>8} | {'grille ms':>9} {'enfants':>7} {'µs/enfant':>9} {'× SQL':>5} | "
            f"{'recherche ms':>12} {'ms/1000 fam.':>12} | {'5 000 acceptées ms':>18} {'µs/demande':>10} | "
            f"{'préparation ms':>14} {'factures':>8} {'ms/facture':>10}")
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['families']:>8} | {r['grid_ms']:>9.1f} {r['grid_children']:>7} {r['grid_us_per_child']:>9.1f} "
            f"{r['grid_ratio']:>5.2f} | {r['search_ms']:>12.2f} {r['search_ms_per_1000_families']:>12.3f} | "
            f"{r['accept_ms']:>18.1f} {r['accept_us_per_request']:>10.1f} | {r['prepare_ms']:>14.1f} "
            f"{r['invoices']:>8} {r['prepare_ms_per_invoice']:>10.3f}")
    return "\n".join(lines)


def main(as_json: bool = False) -> int:
    rows = []
    for families in SIZES:
        print(f"Base de {families} familles…", file=sys.stderr, flush=True)
        with contextlib.redirect_stdout(sys.stderr):
            rows.append(_rows(families))
    text = table(rows)
    if as_json:
        print(text, file=sys.stderr)
        json.dump({"sizes": rows}, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        print(text)
    return 0
