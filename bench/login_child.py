"""One real start-up through the login dialog, driven like a clerk (run by bench_login.py):

    python bench/login_child.py URL LOGIN PASSWORD TYPING_MS

The program's own entry (`ui.app.run_window`) runs unchanged; a 2 ms timer watches it: the login
dialog's first paint, the base opened behind it, then — TYPING_MS after that paint, the time a
clerk takes to type the password — the password is put in and « Se connecter » clicked; then the
main window's Familles list filled and painted. Prints `key=value` lines (ms from the
interpreter's start, or from the moment the password was given: a key pressed while the event
loop is busy waits, and the clerk lives that wait), then leaves at once (no backup, no close work: the
figure is the start).
"""

from __future__ import annotations

import time

T0 = time.perf_counter()

import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(url: str, login: str, password: str, typing_ms: float) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])  # run_window takes the instance there is
    from gandrange_desk.ui.login import LoginDialog

    # The dialog's own first-paint moment, taken before the work it starts (the base's opening)
    # runs: a timer would only see it once that work has given the event loop back.
    painted = LoginDialog._painted

    def painted_and_noted(dialog) -> None:
        if "painted_cpu" not in state:
            state["painted_cpu"] = time.process_time() * 1000
            state["sqlalchemy_at_paint"] = int("sqlalchemy" in sys.modules)
        painted(dialog)

    LoginDialog._painted = painted_and_noted
    marks: dict[str, float] = {}
    state: dict = {}

    def ms(at: float) -> float:
        return round((at - T0) * 1000, 1)

    def done(window) -> None:
        marks["filled"] = time.perf_counter()
        print(f"login_painted_ms={ms(marks['painted'])}")
        print(f"login_painted_cpu_ms={state['painted_cpu']:.1f}")
        print(f"base_ready_ms={ms(marks.get('ready', marks['enter']))}")
        print(f"enter_ms={ms(marks['enter'])}")
        print(f"filled_ms={ms(marks['filled'])}")
        print(f"after_enter_ms={(marks['filled'] - marks['enter']) * 1000:.1f}")
        print(f"sqlalchemy_at_login_paint={state['sqlalchemy_at_paint']}")
        sys.stdout.flush()
        os._exit(0)

    def families_filled(window) -> bool:
        for holder in getattr(window, "lazy", ()):
            widget = getattr(holder, "widget", None)
            rows = getattr(getattr(widget, "model", None), "rows", None)
            if rows:
                return True
        return False

    def watch() -> None:
        from gandrange_desk.ui.main_window import MainWindow

        now = time.perf_counter()
        for widget in app.topLevelWidgets():
            if isinstance(widget, LoginDialog) and widget.isVisible():
                if "painted" not in marks and widget.first_paint_done and widget.first_painted_at:
                    marks["painted"] = widget.first_painted_at
                if widget.desk is not None and "ready" not in marks:
                    marks["ready"] = now
                if "painted" in marks and "enter" not in marks and now >= marks["painted"] + typing_ms / 1000:
                    # The key pressed then waited for the event loop if it was busy: counted from then.
                    marks["enter"] = marks["painted"] + typing_ms / 1000
                    widget.password.setText(password)
                    widget.try_login()  # what « Se connecter » and Enter call
            elif isinstance(widget, MainWindow) and widget.isVisible() and "enter" in marks:
                if "seen" not in state and families_filled(widget):
                    state["seen"] = True
                    widget.after_next_paint(lambda w=widget: done(w))

    timer = QTimer()
    timer.setInterval(2)
    timer.timeout.connect(watch)
    timer.start()
    QTimer.singleShot(60_000, lambda: (print("error=no filled window in 60 s"), sys.stdout.flush(), os._exit(1)))
    from gandrange_desk.ui.app import run_window

    run_window(db=url, user=login)
    print("error=the window closed before the list was filled")
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]))
