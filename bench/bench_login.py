"""The start-up a clerk lives (issue 14): through the login dialog, as the program always starts
on a base that has desk users.

- startup_login_ms: interpreter start to the login dialog painted (the first window the clerk
  can type in), against the bare populated Qt window (bench/touch_child.py floor) alternated in
  the same run; target ≤ 3× the floor, like the main window's `startup_ms`.
- login_enter_ms_<typing>: from « Se connecter » to the main window painted with its Familles list
  filled, the password typed `typing` ms after the dialog appeared: 1,500 ms (a clerk typing
  « demo1234 »; the base opens, SQLAlchemy and the models load behind the dialog meanwhile) and
  0 ms (the password given at once: the click waits for the base).
"""

from __future__ import annotations

import statistics
from pathlib import Path

import bench_touch

HERE = Path(__file__).resolve().parent
CHILD = HERE / "login_child.py"
RUNS = 5
LOGIN, PASSWORD = "sfoncin", "demo1234"  # gandrange_desk.demo.DEMO_USERS / DEMO_PASSWORD
_runs: dict | None = None


def _measure(base) -> dict:
    global _runs
    if _runs is None:
        url = base.fresh_copy()  # the login may write (failed-login counters); never the shared base
        rows: dict[str, list] = {"floor": [], "floor_cpu": [], "painted": [], "painted_cpu": [],
                                 "enter_1500": [], "enter_0": [], "ready": [], "sqlalchemy": []}
        for _ in range(RUNS + 1):
            values, _wall, _cpu = bench_touch._child(str(bench_touch.CHILD), "floor", timeout=120)
            rows["floor"].append(values["ready_ms"])
            rows["floor_cpu"].append(values.get("ready_cpu_ms", float("nan")))
            for typing in (1500, 0):
                values, _wall, _cpu = bench_touch._child(str(CHILD), url, LOGIN, PASSWORD, str(typing), timeout=120)
                if "error" in values:
                    raise RuntimeError(values["error"])
                rows[f"enter_{typing}"].append(values["after_enter_ms"])
                if typing == 1500:
                    rows["painted"].append(values["login_painted_ms"])
                    rows["painted_cpu"].append(values["login_painted_cpu_ms"])
                    rows["ready"].append(values["base_ready_ms"])
                    rows["sqlalchemy"].append(values["sqlalchemy_at_login_paint"])
        _runs = {key: v[1:] for key, v in rows.items()}  # the first of each pays cold caches
    return _runs


def _med(xs) -> float:
    return statistics.median(xs)


def startup_login_ms(base) -> dict:
    r = _measure(base)
    return {"value": round(_med(r["painted"]), 1), "unit": "ms", "target": "≤ 3× the bare Qt window",
            "ratio": round(_med(r["painted"]) / _med(r["floor"]), 2), "floor_ms": round(_med(r["floor"]), 1),
            "cpu_ratio": round(_med(r["painted_cpu"]) / _med(r["floor_cpu"]), 2),
            "runs_ms": [round(v) for v in r["painted"]], "floor_runs_ms": [round(v) for v in r["floor"]],
            "base_ready_ms": round(_med(r["ready"]), 1),
            "sqlalchemy_loaded_at_login_paint_runs": r["sqlalchemy"],
            "note": "fresh process, the program's own entry with --user: interpreter start to the login "
                    "dialog's first paint; base_ready_ms: the base opened and checked behind it"}


def _enter(typing: int, note: str):
    def figure(base) -> dict:
        runs = _measure(base)[f"enter_{typing}"]
        return {"value": round(_med(runs), 1), "unit": "ms", "target": "reference",
                "runs_ms": [round(v) for v in runs], "note": note}
    return figure


login_enter_ms_1500 = _enter(1500, "« Se connecter » clicked 1.5 s after the dialog appeared, to the main window "
                                   "painted with its Familles list filled (password check included)")
login_enter_ms_0 = _enter(0, "the password given the moment the dialog is painted (a key pressed then waits for "
                             "the event loop): the click waits for the base to open, then as above")


FIGURES = {"startup_login_ms": startup_login_ms, "login_enter_ms_1500": login_enter_ms_1500,
           "login_enter_ms_0": login_enter_ms_0}
