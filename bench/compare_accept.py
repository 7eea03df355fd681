"""Accepting 5,000 requests, today and before the rules engine, side by side.

    python bench/compare_accept.py [--ref COMMIT] [--runs N]

Issue 10 asked the one rules engine and the one decision round to keep "accept 5,000" within
10 % of the figure of the code they replaced. That code no longer exists in the tree, so this
script checks the old commit out in a temporary git worktree and runs the same bench there and
here, one after the other on this machine, and prints both figures and their ratio. The CPU time
of the bench process is the fairer figure on a shared machine; wall time is printed beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The last commit whose queue decided cells through queue_bulk (before services/reservations/).
BEFORE_ENGINE = "1f32555"
FIGURE = "queue_accept_5000"


def run_bench(tree: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, str(tree / "bench" / "run.py"), "--only", FIGURE, "--json"],
                          cwd=tree, env=env, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(f"bench failed in {tree}:\n{done.stderr[-2000:]}")
    out = done.stdout
    return json.loads(out[out.index("{"):])[FIGURE]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default=BEFORE_ENGINE, help="the commit to compare with")
    parser.add_argument("--runs", type=int, default=1, help="alternate old/new this many times")
    args = parser.parse_args(argv)
    old_tree = Path(tempfile.mkdtemp(prefix="gd-bench-old-")) / "tree"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(old_tree), args.ref],
                   check=True)
    try:
        old, new = [], []
        for _ in range(args.runs):
            old.append(run_bench(old_tree))
            new.append(run_bench(ROOT))
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old_tree)], check=False)

    def median(rows, key):
        values = sorted(r[key] for r in rows)
        return values[len(values) // 2]

    for key, label in (("cpu_ms", "CPU"), ("value", "wall")):
        before, now = median(old, key), median(new, key)
        print(f"{FIGURE} {label}: before the engine ({args.ref}) {before:.0f} ms, now {now:.0f} ms, "
              f"ratio {now / before:.2f} (target ≤ 1.10; now ≤ 2000 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
