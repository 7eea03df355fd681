"""Printing a PDF through the operating system's spooler, as a PDF: vector pages, never rasterised.

- Linux and macOS: CUPS. `lp` hands the file to the queue chosen (or the default destination),
  then the job is followed with `lpstat` until the spooler has printed it, so the window shows
  progress and "Annuler" cancels the job (`cancel`). The printer's own filters turn the PDF into
  what it speaks; the desk never renders a page.
- Windows: the shell prints the file with the PDF reader registered on the workstation — the
  "print" verb for the default printer, "printto" with the printer's name for another one
  (ShellExecuteW, as `os.startfile(path, "print")` does). Windows then owns the job: it shows
  in the printer's queue, and is cancelled there.

No Qt here: the window runs `spool_pdf` in a worker thread (`ui.common.ops.run_operation`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from gandrange_desk import formats
from gandrange_desk.errors import DeskError
from gandrange_desk.services.progress import Cancelled, Progress

POLL_SECONDS = 0.25
# CUPS answers in the user's language; the desk reads its answers in C.
_C = {"LC_ALL": "C", "LANG": "C"}


@dataclass(frozen=True)
class Printer:
    name: str
    default: bool = False


@dataclass
class PrintJob:
    printer: str
    pages: int
    job_id: str = ""  # CUPS: "Bureau-12"
    done: bool = False  # the spooler has printed it (CUPS); Windows: handed to the reader

    def summary(self) -> str:
        what = formats.count(self.pages, "page", "pages")
        where = f"« {self.printer} »" if self.printer else "l'imprimante par défaut"
        if self.done:
            return f"{what} {formats.plural(self.pages, 'imprimée', 'imprimées')} sur {where} (travail {self.job_id})."
        if self.job_id:
            return (f"{what} dans la file de {where} (travail {self.job_id}) : l'impression se poursuit "
                    "sans la fenêtre.")
        return f"{what} {formats.plural(self.pages, 'envoyée', 'envoyées')} à {where}."


def _env() -> dict:
    return {**os.environ, **_C}


def _run(args: list[str], timeout: float = 30) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=_env())
    except FileNotFoundError:
        raise DeskError("Impression impossible : CUPS n'est pas installé sur ce poste (commande "
                        f"« {args[0]} » introuvable).") from None
    except subprocess.TimeoutExpired:
        raise DeskError("Le service d'impression (CUPS) ne répond pas.") from None


def _windows() -> bool:
    return sys.platform.startswith("win")


# ------------------------------------------------------------------------------- printers
def printers() -> list[Printer]:
    """The printers of this workstation, the default one first."""
    if _windows():
        names, default = _windows_printers()
    else:
        names, default = _cups_printers()
    ordered = sorted(names, key=lambda n: (n != default, n.casefold()))
    return [Printer(n, n == default) for n in ordered]


def _cups_printers() -> tuple[list[str], str]:
    if shutil.which("lpstat") is None:
        return [], ""
    listed = _run(["lpstat", "-e"])
    names = [line.strip() for line in listed.stdout.splitlines() if line.strip()]
    default = ""
    match = re.search(r"system default destination: (\S+)", _run(["lpstat", "-d"]).stdout)
    if match:
        default = match.group(1)
    return names, default


def _windows_printers() -> tuple[list[str], str]:  # pragma: no cover - Windows only
    import ctypes
    from ctypes import wintypes

    winspool = ctypes.WinDLL("winspool.drv")

    class PRINTER_INFO_4(ctypes.Structure):
        _fields_ = [("pPrinterName", wintypes.LPWSTR), ("pServerName", wintypes.LPWSTR),
                    ("Attributes", wintypes.DWORD)]

    flags = 0x2 | 0x4  # PRINTER_ENUM_LOCAL | PRINTER_ENUM_CONNECTIONS
    needed, returned = wintypes.DWORD(0), wintypes.DWORD(0)
    winspool.EnumPrintersW(flags, None, 4, None, 0, ctypes.byref(needed), ctypes.byref(returned))
    names: list[str] = []
    if needed.value:
        buffer = ctypes.create_string_buffer(needed.value)
        if winspool.EnumPrintersW(flags, None, 4, buffer, needed, ctypes.byref(needed), ctypes.byref(returned)):
            infos = ctypes.cast(buffer, ctypes.POINTER(PRINTER_INFO_4))
            names = [infos[i].pPrinterName for i in range(returned.value)]
    size = wintypes.DWORD(0)
    winspool.GetDefaultPrinterW(None, ctypes.byref(size))
    default = ""
    if size.value:
        text = ctypes.create_unicode_buffer(size.value)
        if winspool.GetDefaultPrinterW(text, ctypes.byref(size)):
            default = text.value
    return names, default


# ------------------------------------------------------------------------------- printing
def page_count(data: bytes) -> int:
    import io

    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(data)).pages)


def spool_pdf(data: bytes, *, printer: str | None, title: str, progress: Progress | None = None,
              wait_seconds: float = 600) -> PrintJob:
    """Print `data` (a PDF) on `printer` (None: the default one). On CUPS, follow the job until
    it is printed (at most `wait_seconds`); `progress.check()` cancels it."""
    if not data.startswith(b"%PDF"):
        raise DeskError("Impression impossible : le document n'est pas un PDF.")
    progress = progress or Progress()
    pages = page_count(data)
    progress.step(0, pages, f"Envoi de {formats.count(pages, 'page', 'pages')} à l'imprimante…")
    progress.check()
    if _windows():
        return _print_windows(data, printer, title, pages)
    return _print_cups(data, printer, title, pages, progress, wait_seconds)


def _print_cups(data: bytes, printer: str | None, title: str, pages: int, progress: Progress,
                wait_seconds: float) -> PrintJob:
    with tempfile.TemporaryDirectory(prefix="gandrange-desk-print-") as folder:
        path = Path(folder) / "document.pdf"
        path.write_bytes(data)
        args = ["lp"] + (["-d", printer] if printer else []) + ["-t", title[:200], str(path)]
        done = _run(args, timeout=120)
    if done.returncode != 0:
        raise DeskError(f"L'imprimante a refusé le document : {_cups_error(done)}")
    match = re.search(r"request id is (\S+)", done.stdout)
    if not match:
        raise DeskError(f"Réponse inattendue du service d'impression : {done.stdout.strip() or done.stderr.strip()}")
    job = PrintJob(printer or match.group(1).rsplit("-", 1)[0], pages, match.group(1))
    queue = job.printer
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        progress.step(0, pages, f"Impression sur « {queue} » (travail {job.job_id})…")
        try:
            progress.check()
        except Cancelled:
            _run(["cancel", job.job_id])
            raise
        pending = _run(["lpstat", "-W", "not-completed", "-o", queue]).stdout
        if not re.search(rf"^{re.escape(job.job_id)}\s", pending, re.MULTILINE):
            break
        if "disabled" in _run(["lpstat", "-p", queue]).stdout:
            raise DeskError(f"L'imprimante « {queue} » est arrêtée : le travail {job.job_id} attend dans sa file "
                            "(vérifiez le papier et l'imprimante, ou annulez-le depuis le système).")
        time.sleep(POLL_SECONDS)
    else:
        return job  # still queued: printing goes on without the window
    completed = _run(["lpstat", "-W", "completed", "-o", queue]).stdout
    if not re.search(rf"^{re.escape(job.job_id)}\s", completed, re.MULTILINE):
        raise DeskError(f"Le travail {job.job_id} n'a pas été imprimé (annulé ou abandonné par l'imprimante "
                        f"« {queue} »).")
    job.done = True
    progress.step(pages, pages, "Imprimé.")
    return job


def _cups_error(done: subprocess.CompletedProcess) -> str:
    text = (done.stderr or done.stdout or "").strip()
    return re.sub(r"^lp: (Error - )?", "", text) or f"code {done.returncode}"


def _print_windows(data: bytes, printer: str | None, title: str, pages: int) -> PrintJob:  # pragma: no cover
    import ctypes

    folder = Path(tempfile.gettempdir()) / "gandrange-desk" / "impression"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.pdf"):  # the reader has long finished with yesterday's files
        try:
            if time.time() - old.stat().st_mtime > 86400:
                old.unlink()
        except OSError:
            pass
    safe = re.sub(r"[^\w\- ]+", "_", title).strip() or "document"
    path = folder / f"{safe}-{int(time.time())}.pdf"
    path.write_bytes(data)
    shell32 = ctypes.windll.shell32
    if printer:
        code = shell32.ShellExecuteW(None, "printto", str(path), f'"{printer}"', None, 0)
    else:
        code = shell32.ShellExecuteW(None, "print", str(path), None, None, 0)
    if code <= 32:
        if printer:
            raise DeskError("Le lecteur PDF de ce poste ne sait pas imprimer sur une imprimante choisie : "
                            "choisissez l'imprimante par défaut, ou installez un lecteur PDF qui le permet.")
        raise DeskError("Aucun programme de ce poste n'imprime les PDF : installez un lecteur PDF.")
    return PrintJob(printer or "", pages)


__all__ = ["PrintJob", "Printer", "page_count", "printers", "spool_pdf"]
