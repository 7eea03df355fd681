"""Start-up: the window with no command, the command line otherwise.

`python -m gandrange_desk`, the `gandrange-desk` entry point and both frozen programs
(`GandrangeDesk.exe`, windowed; `gandrange-desk.exe`, console) start here. The decision is made
before anything heavy is imported, so a command never loads Qt and `--help` never loads the
database layer.
"""

from __future__ import annotations

import sys
from typing import Sequence

# Global options that may stand before a command, and whether they take a value.
_GLOBAL_OPTIONS = {"--db": True, "--user": True}


def wants_window(argv: Sequence[str]) -> bool:
    """True when `argv` holds nothing but the global options the window understands."""
    rest = list(argv)
    while rest:
        head = rest.pop(0)
        name = head.split("=", 1)[0]
        if name not in _GLOBAL_OPTIONS:
            return False
        if "=" not in head and _GLOBAL_OPTIONS[name]:
            if not rest:
                return False  # "--db" with no value: let the parser say so
            rest.pop(0)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from gandrange_desk import console

    window = wants_window(argv)
    console.setup("window" if window else "command")
    if window:
        from gandrange_desk.ui.app import main as window_main

        return console.guarded(lambda: window_main(argv), show=_message_box)
    from gandrange_desk.cli import main as command_main

    return console.guarded(lambda: command_main(argv))


def _message_box(sentence: str) -> None:
    """The window's last line of defence: the sentence in front of the clerk, not in a console
    that the windowed program does not have."""
    from PySide6.QtWidgets import QApplication, QMessageBox

    app = QApplication.instance() or QApplication([])
    QMessageBox.critical(None, "Gandrange Desk", sentence)
    del app


if __name__ == "__main__":
    raise SystemExit(main())
