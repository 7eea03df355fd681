"""A throw-away CUPS server with a PDF printer, for the printing tests.

Its own cupsd (configuration, spool, logs in a temporary folder, listening on a local socket
only), started and stopped by the tests; the printer is the cups-pdf backend of Debian's
`printer-driver-cups-pdf`, writing what it prints into the same folder. Clients find it through
`CUPS_SERVER` (the socket), so the machine's own printers are never touched.

cups-pdf reads its settings from /etc/cups/cups-pdf-<instance>.conf, the instance being the end
of the queue's device URI (cups-pdf:/<instance>): the server writes that file for its queue and
removes it on stop. Both need root, as on CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

CUPSD = "/usr/sbin/cupsd"
BACKEND = Path("/usr/lib/cups/backend/cups-pdf")
PPD = Path("/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd")
CONFIG_DIR = Path("/etc/cups")


def unavailable() -> str | None:
    """Why a private CUPS with a PDF printer cannot run here (None: it can)."""
    if not Path(CUPSD).exists() or shutil.which("lp") is None or shutil.which("lpadmin") is None:
        return "CUPS n'est pas installé (apt-get install cups printer-driver-cups-pdf)"
    if not BACKEND.exists() or not PPD.exists():
        return "l'imprimante PDF de CUPS n'est pas installée (apt-get install printer-driver-cups-pdf)"
    if shutil.which("pdftocairo") is None:
        return "pdftocairo manque pour convertir les PDF de la file de test (apt-get install poppler-utils)"
    if os.geteuid() != 0:
        return "un cupsd de test et le backend cups-pdf demandent les droits root"
    if not os.access(CONFIG_DIR, os.W_OK):
        return f"{CONFIG_DIR} n'est pas accessible en écriture (configuration de l'instance cups-pdf)"
    return None


class CupsServer:
    def __init__(self) -> None:
        # Short: a Unix socket path is limited to about 100 characters.
        self.root = Path(tempfile.mkdtemp(prefix="gdcups-"))
        self.socket = self.root / "cups.sock"
        self.out = self.root / "out"
        self.process: subprocess.Popen | None = None
        self.queues: list[str] = []

    @property
    def env(self) -> dict:
        return {**os.environ, "CUPS_SERVER": str(self.socket), "LC_ALL": "C"}

    def start(self) -> "CupsServer":
        etc = self.root / "etc"
        for sub in ("etc", "spool/tmp", "cache", "state", "log", "out"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)
        os.chmod(self.out, 0o777)
        (etc / "cupsd.conf").write_text(
            f"LogLevel info\nListen {self.socket}\nBrowsing Off\nWebInterface No\nDefaultAuthType None\n"
            "<Location />\n  Order allow,deny\n  Allow all\n</Location>\n"
            "<Location /admin>\n  Order allow,deny\n  Allow all\n</Location>\n"
            "<Policy default>\n  <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n", encoding="utf-8")
        (etc / "cups-files.conf").write_text(
            f"ServerRoot {etc}\nRequestRoot {self.root / 'spool'}\nTempDir {self.root / 'spool/tmp'}\n"
            f"CacheDir {self.root / 'cache'}\nStateDir {self.root / 'state'}\n"
            f"ErrorLog {self.root / 'log/error_log'}\nAccessLog {self.root / 'log/access_log'}\n"
            f"PageLog {self.root / 'log/page_log'}\nPrintcap {self.root / 'printcap'}\n"
            "FileDevice No\nSandboxing Relaxed\n", encoding="utf-8")
        os.chmod(etc, 0o755)
        self.process = subprocess.Popen([CUPSD, "-f", "-c", str(etc / "cupsd.conf"), "-s", str(etc / "cups-files.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"cupsd stopped: {self.process.stderr.read().decode(errors='replace')}")
            if self.socket.exists() and subprocess.run(["lpstat", "-r"], env=self.env, capture_output=True).returncode == 0:
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("cupsd did not start in 20 s")

    def add_pdf_printer(self, name: str, *options: str) -> str:
        """A queue printing into `self.out` through cups-pdf."""
        (CONFIG_DIR / f"cups-pdf-{name}.conf").write_text(
            f"Out {self.out}\nAnonDirName {self.out}\nLabel 0\nTitlePref 0\n", encoding="utf-8")
        self.queues.append(name)
        extra = [arg for option in options for arg in ("-o", option)]
        subprocess.run(["lpadmin", "-p", name, "-E", "-v", f"cups-pdf:/{name}", "-P", str(PPD), *extra],
                       env=self.env, capture_output=True, check=True)
        return name

    def printed(self, job_id: str, timeout: float = 60) -> Path:
        """The PDF cups-pdf wrote for a job ("Queue-12")."""
        number = job_id.rsplit("-", 1)[1]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = sorted(self.out.glob(f"*job_{number}.pdf"))
            if found and found[0].stat().st_size > 0:
                return found[0]
            time.sleep(0.2)
        raise AssertionError(f"nothing printed for {job_id} in {self.out}: {list(self.out.iterdir())}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        for name in self.queues:
            (CONFIG_DIR / f"cups-pdf-{name}.conf").unlink(missing_ok=True)
        shutil.rmtree(self.root, ignore_errors=True)
