"""Standard streams and the log file, set up once at start-up for both programs.

- A redirected stdout on Windows gets the ANSI code page (cp1252), which cannot encode the narrow
  no-break space of French amounts: every stream is switched to UTF-8 with replacement, so a
  scheduled task's journal never ends in UnicodeEncodeError after the work is committed.
- The windowed program has no console at all (`sys.stdout is None`): its prints go to the log.
- Both programs append to `gandrange-desk.log` in the user's log folder (platformdirs;
  `GANDRANGE_DESK_LOG_DIR` overrides it), where unexpected errors leave their traceback.
"""

from __future__ import annotations

import io
import logging
import os
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Callable

ENV_LOG_DIR = "GANDRANGE_DESK_LOG_DIR"
LOG_NAME = "gandrange-desk.log"
EXIT_CRASHED = 70  # EX_SOFTWARE

log = logging.getLogger("gandrange_desk")
_log_file: Path | None = None


def log_dir() -> Path:
    override = os.environ.get(ENV_LOG_DIR)
    if override:
        return Path(override)
    from platformdirs import user_log_dir

    return Path(user_log_dir("gandrange-desk", "Commune de Gandrange"))


def log_file() -> Path | None:
    return _log_file


def _utf8(stream):
    """The same stream, writing UTF-8 and replacing what cannot be encoded instead of failing."""
    if stream is None:
        return None
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        try:
            reconfigure(encoding="utf-8", errors="replace")
            return stream
        except (ValueError, OSError, io.UnsupportedOperation):
            pass
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        return io.TextIOWrapper(buffer, encoding="utf-8", errors="replace", line_buffering=True)
    return stream


class _LogStream(io.TextIOBase):
    """Stands in for a missing stdout/stderr: whole lines go to the log."""

    def __init__(self, level: int):
        self.level = level
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            if line.strip():
                log.log(self.level, "%s", line)
        return len(text)

    def flush(self) -> None:
        if self._pending.strip():
            log.log(self.level, "%s", self._pending)
        self._pending = ""


def _open_log() -> Path | None:
    global _log_file
    if _log_file is not None:
        return _log_file
    try:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / LOG_NAME
        handler = RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    except OSError:
        return None  # a read-only profile must not stop the program
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    _log_file = path
    return path


def setup(mode: str) -> None:
    """Streams and log for `mode` ("window" or "command"); safe to call more than once."""
    _open_log()
    sys.stdout = _utf8(sys.stdout) or _LogStream(logging.INFO)
    sys.stderr = _utf8(sys.stderr) or _LogStream(logging.WARNING)
    log.info("start %s: %s", mode, " ".join(_redacted(sys.argv)))


def _redacted(argv: list[str]) -> list[str]:
    # A --db URL may carry a password: never write it to the log.
    out = []
    for arg in argv:
        if "://" in arg and "@" in arg:
            scheme, rest = arg.split("://", 1)
            creds, host = rest.rsplit("@", 1)
            arg = f"{scheme}://{creds.split(':', 1)[0]}@{host}"
        out.append(arg)
    return out


def guarded(run: Callable[[], int]) -> int:
    """Run the program; an unexpected error is logged with its traceback and told in one line."""
    try:
        status = run()
    except SystemExit as exc:  # argparse's --help and usage errors
        code = exc.code
        status = code if isinstance(code, int) else (0 if code is None else 2)
        if isinstance(code, str):
            print(code, file=sys.stderr)
    except KeyboardInterrupt:
        print("Interrompu.", file=sys.stderr)
        status = 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        log.exception("unexpected error")
        where = f" Détails dans {_log_file}." if _log_file else ""
        print(f"Erreur inattendue : {type(exc).__name__}: {exc}.{where}", file=sys.stderr)
        status = EXIT_CRASHED
    log.info("exit %s", status)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed pipe at exit is not an error
            pass
    return int(status or 0)
