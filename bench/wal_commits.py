"""Commits of a working day with and without the background WAL checkpoint (gandrange_desk/wal.py).

`python bench/wal_commits.py BASE.sqlite3 [commits]`: on two copies of BASE, the same series of
write units of work (each rewrites ~400 scattered pages of `booking`, somewhat more than a
1,000-cell rectangle writes), timing the commit alone, one second apart like a clerk's pauses; the first copy with the checkpoint
thread switched off (SQLite then checkpoints inside whichever commit crosses 1,000 pages of
log), the second with it. Prints each run's median and worst commit, wall and CPU, and the load.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402

from gandrange_desk import wal  # noqa: E402
from gandrange_desk.db import make_engine, sqlite_url  # noqa: E402


def run(source: Path, commits: int, background: bool) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="wal-bench-"))
    try:
        target = folder / "base.sqlite3"
        shutil.copyfile(source, target)
        # A fresh copy is dirty in the page cache: the first sync would write it all (~0.45 s at
        # 8,000 families) and be taken for a checkpoint.
        with open(target, "rb+") as f:
            os.fsync(f.fileno())
        engine = make_engine(sqlite_url(target), check=False)
        if not background:
            wal.CHECKPOINTERS[engine].poke = lambda: None
        with engine.connect() as conn:
            ids = [r[0] for r in conn.execute(text("SELECT id FROM booking"))]
        rng = random.Random(7)
        walls, cpus = [], []
        for _ in range(commits):
            sample = rng.sample(ids, 400)
            with engine.connect() as conn:
                transaction = conn.begin()
                conn.execute(text(f"UPDATE booking SET unit_id = unit_id WHERE id IN ({','.join(map(str, sample))})"))
                started, cpu = time.perf_counter(), time.process_time()
                transaction.commit()
            walls.append((time.perf_counter() - started) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
            time.sleep(1.0)
        engine.dispose()
        return {"commit_median_ms": round(statistics.median(walls), 1), "commit_worst_ms": round(max(walls), 1),
                "over_100_ms": sum(w > 100 for w in walls), "median_cpu_ms": round(statistics.median(cpus), 1),
                "worst_cpu_ms": round(max(cpus), 1), "walls": [round(w) for w in walls]}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    source = Path(sys.argv[1])
    commits = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    for background in (False, True, False, True):
        load = os.getloadavg()[0]
        figures = run(source, commits, background)
        label = "checkpoint thread" if background else "in the commits  "
        print(f"{label}: {figures}  (load {load:.1f} → {os.getloadavg()[0]:.1f})", flush=True)


if __name__ == "__main__":
    main()
