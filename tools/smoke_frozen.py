"""Smoke test of a delivered Gandrange Desk, run as a clerk's scheduled task would run it.

Two targets, one list of checks:
  python tools/smoke_frozen.py --program dist/GandrangeDesk [--window] [--max-mb N]
      the PyInstaller folder (Linux here, Windows on the CI runner): its console program for the
      commands, its windowed program for the window (up 10 s on the offscreen platform);
  python tools/smoke_frozen.py --wine-python build/wine/python/python.exe
      Windows CPython under Wine (tools/windows_cli_test.py prepares it): every command runs
      through `cmd /c … > Z:\\…\\out.txt 2> …\\err.txt`, Windows paths, the default base and log
      under %LOCALAPPDATA%.

Every output must decode as strict UTF-8 (French amounts carry a narrow no-break space, which a
cp1252 stdout could not write). Uses only the standard library: it runs beside the bundle, not
inside the project's environment. Exit status 0 when every check passed; prints
'N passed, N failed' at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

NNBSP = "\u202f"
ROOT = Path(__file__).resolve().parent.parent


def expected_version() -> str:
    for line in (ROOT / "gandrange_desk" / "__init__.py").read_text(encoding="utf-8").splitlines():
        if line.startswith("__version__"):
            return line.split("=", 1)[1].strip().strip('"')
    raise SystemExit("no __version__ in gandrange_desk/__init__.py")


class Result:
    def __init__(self, status: int, out: str, err: str):
        self.status, self.out, self.err = status, out, err

    def __repr__(self) -> str:
        return f"exit {self.status}\n--- stdout\n{self.out[-1500:]}\n--- stderr\n{self.err[-1500:]}"


def _decode(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AssertionError(f"{what} is not UTF-8 ({exc}): {data[:200]!r}") from None


class FrozenRunner:
    """The PyInstaller folder: gandrange-desk(.exe) for commands, GandrangeDesk(.exe) for the window."""

    def __init__(self, folder: Path, work: Path):
        exe = ".exe" if sys.platform == "win32" else ""
        self.folder = folder
        self.console = folder / f"gandrange-desk{exe}"
        self.window = folder / f"GandrangeDesk{exe}"
        self.work = work
        home = work / "home"
        home.mkdir(exist_ok=True)
        self.env = dict(os.environ, HOME=str(home), XDG_DATA_HOME=str(home / "data"),
                        XDG_CONFIG_HOME=str(home / "config"), XDG_STATE_HOME=str(home / "state"),
                        XDG_CACHE_HOME=str(home / "cache"), LOCALAPPDATA=str(home / "Local"),
                        APPDATA=str(home / "Roaming"), QT_QPA_PLATFORM="offscreen",
                        # platformdirs on Windows asks the shell, not %LOCALAPPDATA%: these it reads.
                        WIN_PD_OVERRIDE_LOCAL_APPDATA=str(home / "Local"),
                        WIN_PD_OVERRIDE_APPDATA=str(home / "Roaming"),
                        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
        for var in ("GANDRANGE_DESK_DB", "GANDRANGE_DESK_USER", "GANDRANGE_DESK_PASSWORD", "GANDRANGE_DESK_LOG_DIR",
                    "GANDRANGE_DESK_CONFIG", "PYTHONIOENCODING", "PYTHONUTF8"):
            self.env.pop(var, None)

    def path(self, name: str) -> str:
        return str(self.work / name)

    def local_path(self, text: str) -> Path:
        return Path(text)

    def data_dirs(self) -> list[Path]:
        return [self.work / "home"]

    def run(self, *args: str, timeout: int = 300) -> Result:
        out_file, err_file = self.work / "out.txt", self.work / "err.txt"
        with out_file.open("wb") as out, err_file.open("wb") as err:
            status = subprocess.run([str(self.console), *args], stdout=out, stderr=err,
                                    stdin=subprocess.DEVNULL, env=self.env, timeout=timeout).returncode
        return Result(status, _decode(out_file.read_bytes(), "stdout"), _decode(err_file.read_bytes(), "stderr"))


class WineRunner:
    r"""Windows python.exe under Wine; the redirection is Windows' own (cmd /c … > Z:\…)."""

    def __init__(self, python: Path, work: Path, prefix: Path | None):
        self.python = python
        self.work = work
        self.env = dict(os.environ, WINEDEBUG="-all")
        if prefix is not None:
            self.env["WINEPREFIX"] = str(prefix)
        for var in ("GANDRANGE_DESK_DB", "GANDRANGE_DESK_USER", "GANDRANGE_DESK_PASSWORD", "GANDRANGE_DESK_LOG_DIR",
                    "GANDRANGE_DESK_CONFIG", "PYTHONIOENCODING", "PYTHONUTF8", "DISPLAY", "WAYLAND_DISPLAY"):
            self.env.pop(var, None)
        self.env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"

    @staticmethod
    def windows(path: Path | str) -> str:
        return "Z:" + str(Path(path).resolve()).replace("/", "\\")

    def path(self, name: str) -> str:
        return self.windows(self.work / name)

    def local_path(self, text: str) -> Path:
        return Path(text[2:].replace("\\", "/")) if text.startswith("Z:") else Path(text)

    def windows_env(self, name: str) -> str:
        result = subprocess.run(["wine", "cmd", "/c", f"echo %{name}%"], input=b"\n", capture_output=True,
                                env=self.env, timeout=120)
        return result.stdout.decode("utf-8", "replace").strip()

    def data_dirs(self) -> list[Path]:
        if not hasattr(self, "_data_dirs"):
            local = self.windows_env("LOCALAPPDATA")  # C:\users\<user>\AppData\Local
            prefix = Path(self.env.get("WINEPREFIX") or Path.home() / ".wine")
            self._data_dirs = [prefix / "drive_c" / local[3:].replace("\\", "/")]
        return self._data_dirs

    def reset(self) -> None:
        """A fresh profile in the test prefix: no base, configuration or log of an earlier run."""
        for folder in self.data_dirs():
            shutil.rmtree(folder / "Commune de Gandrange", ignore_errors=True)

    def run(self, *args: str, timeout: int = 300) -> Result:
        out_file, err_file = self.work / "out.txt", self.work / "err.txt"
        for f in (out_file, err_file):
            f.unlink(missing_ok=True)
        # cmd.exe does the redirection, as in a scheduled task's "> journal.txt". Each argument
        # is its own argv element: Wine quotes those with spaces and keeps them Unicode.
        line = [self.windows(self.python), "-m", "gandrange_desk", *args,
                ">", self.windows(out_file), "2>", self.windows(err_file)]
        # Wine gives a console program invalid standard handles when stdin is /dev/null: a pipe works.
        done = subprocess.run(["wine", "cmd", "/c", *line], input=b"\n", capture_output=True,
                              env=self.env, timeout=timeout)
        out = out_file.read_bytes() if out_file.exists() else b""
        err = err_file.read_bytes() if err_file.exists() else b""
        return Result(done.returncode, _decode(out, "stdout"), _decode(err, "stderr"))


class Smoke:
    def __init__(self, runner, strict: bool = True):
        self.runner = runner
        self.passed: list[str] = []
        self.failed: list[str] = []
        self.timings: list[tuple[str, float]] = []

    def check(self, name: str, fn) -> object:
        started = time.perf_counter()
        try:
            value = fn()
        except Exception as exc:  # noqa: BLE001 - every failure is reported, the run goes on
            elapsed = time.perf_counter() - started
            self.failed.append(name)
            print(f"FAIL {name} ({elapsed:.1f} s): {exc}", flush=True)
            return None
        elapsed = time.perf_counter() - started
        self.timings.append((name, elapsed))
        self.passed.append(name)
        print(f"ok   {name} ({elapsed:.1f} s)", flush=True)
        return value

    def command(self, *args: str, expect: str | None = None, status: int = 0, timeout: int = 300) -> Result:
        result = self.runner.run(*args, timeout=timeout)
        if result.status != status:
            raise AssertionError(f"expected exit {status}: {result!r}")
        if expect is not None and expect not in result.out + result.err:
            raise AssertionError(f"expected {expect!r} in the output: {result!r}")
        if "Traceback" in result.out + result.err:
            raise AssertionError(f"a traceback reached the clerk: {result!r}")
        return result


def run_commands(smoke: Smoke, runner) -> None:
    db = runner.path("base.sqlite3")
    month = date.today().strftime("%Y-%m")
    version = expected_version()

    smoke.check("--version", lambda: smoke.command("--version", expect=f"gandrange-desk {version}"))
    smoke.check("--help in French", lambda: smoke.command("--help", expect="utilisation"))

    def default_base():
        # "Schéma créé" on a fresh profile; a developer's own Windows profile may have one already.
        smoke.command("db", "upgrade", expect="chéma")
        found = [p for d in runner.data_dirs() for p in d.rglob("gandrange-desk.sqlite3")]
        assert found, f"no default base under {runner.data_dirs()}"
        return found[0]
    base = smoke.check("db upgrade, default base in the user's data folder", default_base)
    if base is not None:
        print(f"     default base: {base}")

    smoke.check("db upgrade --db", lambda: smoke.command("--db", db, "db", "upgrade", expect="Schéma créé"))
    smoke.check("demo", lambda: smoke.command("--db", db, "demo", "--families", "30",
                                              expect="Données de démonstration créées", timeout=600))
    smoke.check("no implicit administrator: a command names its desk user",
                lambda: smoke.command("--db", db, "queue", "list", status=1, expect="Indiquez qui agit"))
    # From here on the commands act as the demo's administrator, as a scheduled task would.
    runner.env.update(GANDRANGE_DESK_USER="admin", GANDRANGE_DESK_PASSWORD="demo1234")

    def prepare():
        result = smoke.command("--db", db, "invoices", "prepare", "--month", month, expect="préparée")
        assert NNBSP in result.out, f"no narrow no-break space in the amounts: {result.out!r}"
    smoke.check("invoices prepare (UTF-8 amounts, redirected)", prepare)
    smoke.check("invoices issue", lambda: smoke.command("--db", db, "invoices", "issue", "--month", month,
                                                        expect="émise"))

    def print_month():
        out = runner.path("mois.pdf")
        smoke.command("--db", db, "invoices", "print", "--month", month, "--out", out, expect="mois.pdf")
        data = runner.local_path(out).read_bytes()
        assert data.startswith(b"%PDF"), "not a PDF"
        assert b"DejaVu" in data, "the DejaVu font is not embedded"
    smoke.check("invoices print (PDF with the bundled fonts)", print_month)

    def sepa():
        out = runner.path("prelevements.xml")
        smoke.command("--db", db, "sepa", "export", "--month", month, "--out", out, "--no-notify")
        text = runner.local_path(out).read_text(encoding="utf-8")
        assert "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02" in text
    smoke.check("sepa export (validated against the XSD inside)", sepa)

    def json_utf8():
        result = smoke.command("--db", db, "--json", "invoices", "list", "--month", month)
        payload = json.loads(result.out)
        assert isinstance(payload, list) and payload, f"no invoice listed: {result.out[:300]!r}"
        assert "\\u00" not in result.out, "accents escaped instead of written in UTF-8"
    smoke.check("--json redirected is UTF-8 JSON", json_utf8)
    smoke.check("queue list", lambda: smoke.command("--db", db, "queue", "list"))

    def holidays():
        result = smoke.command("--db", db, "invoices", "prepare", "--month", "2028-12")
        assert "ne sont pas connues" in result.err, f"no warning for 2028-2029: {result!r}"
        smoke.command("--db", db, "holidays", "add", "2028-12-23", "2029-01-07", "--label", "Vacances de Noël",
                      expect="Vacances enregistrées")
        result = smoke.command("--db", db, "invoices", "prepare", "--month", "2028-12")
        assert "ne sont pas connues" not in result.err, result
        smoke.command("--db", db, "holidays", "list", expect="Vacances de Noël")
    smoke.check("holidays past the official data: warned, entered", holidays)

    def backups():
        out = runner.path("copie.sqlite3")
        smoke.command("--db", db, "backup", "--out", out, expect="Copie de sauvegarde écrite")
        smoke.command("--db", db, "backup", "auto", expect="Copie de sauvegarde écrite")
        smoke.command("--db", db, "backup", "restore", out, expect="Sauvegarde restaurée")
    smoke.check("backup, backup auto, backup restore", backups)

    smoke.check("SQLite on a network share is refused",
                lambda: smoke.command("--db", r"\\serveur\partage\base.sqlite3", "db", "upgrade",
                                      status=1, expect="lecteur réseau"))

    def log_file():
        found = [p for d in runner.data_dirs() for p in d.rglob("gandrange-desk.log")]
        assert found, f"no gandrange-desk.log under {runner.data_dirs()}"
        assert "start command" in found[0].read_text(encoding="utf-8")
    smoke.check("log in the user's log folder", log_file)


def run_window(smoke: Smoke, runner: FrozenRunner, seconds: int) -> None:
    db = runner.path("base.sqlite3")

    def startup():
        env = dict(runner.env, GANDRANGE_DESK_BENCH_STARTUP="1")
        done = subprocess.run([str(runner.window), "--db", db], env=env, capture_output=True, timeout=120)
        out = _decode(done.stdout, "stdout")
        assert done.returncode == 0 and "startup_ms=" in out, f"exit {done.returncode}: {out} {done.stderr[-800:]!r}"
        return out.split("startup_ms=", 1)[1].split()[0]
    ms = smoke.check("window: main window built", startup)
    if ms:
        print(f"     start-up {ms} ms")

    def stays_up():
        proc = subprocess.Popen([str(runner.window), "--db", db], env=runner.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return  # still up (at the login dialog): Qt and the program loaded fine
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        raise AssertionError(f"the window ended after less than {seconds} s (exit {proc.returncode}): "
                             f"{proc.stderr.read()[-800:]!r}")
    smoke.check(f"window: up {seconds} s", stays_up)


def folder_size(folder: Path) -> tuple[float, int]:
    total, count = 0, 0
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            total += path.stat().st_size
            count += 1
    return total / 1_048_576, count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--program", type=Path, help="the PyInstaller folder (dist/GandrangeDesk)")
    target.add_argument("--wine-python", type=Path, help="Windows python.exe to run under Wine")
    parser.add_argument("--wine-prefix", type=Path, help="the Wine prefix (else WINEPREFIX or ~/.wine)")
    parser.add_argument("--window", action="store_true", help="also start the windowed program")
    parser.add_argument("--window-seconds", type=int, default=10)
    parser.add_argument("--max-mb", type=float, default=None, help="fail when the folder is larger")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="gandrange-smoke-"))
    started = time.perf_counter()
    try:
        if args.program:
            runner = FrozenRunner(args.program.resolve(), work)
            if not runner.console.exists():
                print(f"FAIL: {runner.console} does not exist (build the folder first)")
                return 1
        else:
            if not shutil.which("wine"):
                print("FAIL: wine is not installed")
                return 1
            runner = WineRunner(args.wine_python.resolve(), work, args.wine_prefix)
            runner.reset()
        smoke = Smoke(runner)
        if args.program:
            size, files = folder_size(args.program)
            print(f"bundle: {size:.0f} MB, {files} files ({args.program})")

            def schema_inside():
                found = list(args.program.rglob("pain.008.001.02.xsd"))
                assert found, "pain.008.001.02.xsd is not in the bundle"
            smoke.check("the pain.008 XSD is in the bundle", schema_inside)
            if args.max_mb is not None:
                def small_enough():
                    assert size <= args.max_mb, f"{size:.0f} MB > {args.max_mb:.0f} MB"
                smoke.check(f"bundle at most {args.max_mb:.0f} MB", small_enough)
        run_commands(smoke, runner)
        if args.window and args.program:
            run_window(smoke, runner, args.window_seconds)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"smoke test: {time.perf_counter() - started:.0f} s")
    print(f"{len(smoke.passed)} passed, {len(smoke.failed)} failed")
    return 1 if smoke.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
