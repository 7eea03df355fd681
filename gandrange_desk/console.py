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


class _SafeFormatter(logging.Formatter):
    """Never fails on what a record carries: a lone surrogate becomes its escape, so the record
    is readable in the log and in any other handler (a console, a journal) that encodes strictly."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _open_log() -> Path | None:
    global _log_file
    if _log_file is not None:
        return _log_file
    try:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / LOG_NAME
        # An argument the system could not decode arrives surrogate-escaped ("x\udcff.json"):
        # written as "\udcff" rather than breaking the record into "--- Logging error ---".
        handler = RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8",
                                      errors="backslashreplace")
    except OSError:
        return None  # a read-only profile must not stop the program
    handler.setFormatter(_SafeFormatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"))
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


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def explain(exc: BaseException) -> str | None:
    """One French sentence for the failures a person can act on (disk full, a file that is not a
    database, a busy base, a refused access…), or None. Never the exception's own text: a
    database error carries the statement's values (names, addresses, password hashes)."""
    import errno

    for err in _chain(exc):
        text = str(getattr(err, "orig", None) or err).lower()
        if isinstance(err, OSError) and err.errno == errno.ENOSPC or "disk is full" in text \
                or "no space left" in text:
            return ("Disque plein : l'opération n'a pas pu être enregistrée. Libérez de la place sur le "
                    "disque puis recommencez ; rien n'a été modifié à moitié.")
        if "file is not a database" in text or "not a database" in text:
            return ("Le fichier indiqué n'est pas une base de données Gandrange Desk (ni une base SQLite) : "
                    "vérifiez --db ou GANDRANGE_DESK_DB.")
        if "database is locked" in text or "database is busy" in text:
            from gandrange_desk.db import busy_message

            return busy_message()
        if "unable to open database file" in text:
            return ("Impossible d'ouvrir la base de données : le dossier n'existe pas ou n'est pas accessible "
                    "en écriture.")
        if "readonly database" in text or "read-only" in text and "database" in text:
            return "La base de données est en lecture seule : vérifiez les droits sur le fichier et son dossier."
        if isinstance(err, IsADirectoryError):
            return (f"« {err.filename2 or err.filename} » est un dossier : indiquez un nom de fichier."
                    if (err.filename2 or err.filename) else "Un dossier a été indiqué là où un fichier est attendu.")
        if isinstance(err, PermissionError):
            return f"Accès refusé : {err.filename}." if err.filename else "Accès refusé par le système."
        if isinstance(err, FileNotFoundError) and err.filename:
            return f"Fichier introuvable : {err.filename}."
        if isinstance(err, MemoryError):
            return "Mémoire insuffisante pour terminer l'opération."
        if type(err).__name__ in ("OperationalError", "InterfaceError") and (
                "connection" in text or "could not connect" in text or "server closed" in text):
            return "Le serveur de base de données est injoignable ou a coupé la connexion : réessayez."
    return None


def unexpected_text(exc: BaseException) -> str:
    """What a person reads for an error no code path expected: a sentence, never a traceback."""
    known = explain(exc)
    where = f" Détails dans {_log_file}." if _log_file else ""
    if known:
        return known + where
    return f"Erreur inattendue ({type(exc).__name__}) : l'opération n'a pas abouti.{where}"


def guarded(run: Callable[[], int], show: Callable[[str], None] | None = None) -> int:
    """Run the program; an unexpected error is logged with its traceback and told in one line
    (`show` also puts it in front of the person, e.g. in a message box for the window)."""
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
        sentence = unexpected_text(exc)
        print(sentence, file=sys.stderr)
        if show is not None:
            try:
                show(sentence)
            except Exception:  # noqa: BLE001 - no screen: the sentence is in the log already
                log.warning("could not show the error", exc_info=True)
        status = EXIT_CRASHED
    log.info("exit %s", status)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed pipe at exit is not an error
            pass
    return int(status or 0)
