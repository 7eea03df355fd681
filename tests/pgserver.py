"""A throwaway PostgreSQL server for the test session (initdb + pg_ctl in a temp dir).

PostgreSQL refuses to run as root, so as root the binaries run as the `postgres` user in a
folder chowned to it. Never points at a shared server.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def find_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self) -> None:
        self.initdb = find_bin("initdb")
        self.pg_ctl = find_bin("pg_ctl")
        if not (self.initdb and self.pg_ctl):
            raise RuntimeError("PostgreSQL binaries (initdb, pg_ctl) not found")
        self.root = Path(tempfile.mkdtemp(prefix="gd-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.as_root = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> "PgServer":
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
            os.chmod(self.root, 0o700)
        self._run(self.initdb, "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        log = self.root / "log"
        for attempt in range(5):
            opts = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                    "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
            try:
                self._run(self.pg_ctl, "-D", str(self.data), "-o", opts, "-l", str(log),
                          "-w", "-t", "60", "start")
                return self
            except subprocess.CalledProcessError:
                # The port was free when chosen, but other test runs share this machine: another
                # server may have taken it since. Only that is worth another port.
                taken = log.exists() and "Address already in use" in log.read_text(errors="replace")
                if not taken or attempt == 4:
                    raise
                log.unlink()
                self.port = _free_port()
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        try:
            self._run(self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except Exception:
            pass
        for _ in range(20):
            try:
                shutil.rmtree(self.root)
                break
            except OSError:
                time.sleep(0.1)
