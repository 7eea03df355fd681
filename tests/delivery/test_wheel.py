"""A wheel install (not editable) carries what it needs: fonts, icon, migrations.

Builds the project's wheel, installs it alone into a fresh virtual environment whose other
packages come from the test environment (a .pth file; the editable checkout is not visible
there), and issues a month of invoices far from the checkout.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return next(out.glob("gandrange_desk-*.whl"))


def test_wheel_carries_the_resources(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("gandrange_desk/resources/fonts/DejaVuSans.ttf", "gandrange_desk/resources/fonts/DejaVuSans-Bold.ttf",
                 "gandrange_desk/resources/icons/gandrange-desk.ico",
                 "gandrange_desk/migrations/versions/0005_school_holidays.py"):
        assert name in names
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: LicenseRef-Proprietary" in metadata


@pytest.mark.slow
def test_wheel_install_issues_an_invoice(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--disable-pip-version-check",
                           str(wheel)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    target_site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                 capture_output=True, text=True, check=True).stdout.strip()
    # The dependencies of the test environment, without its .pth hooks (so not the editable checkout).
    Path(target_site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")

    work = tmp_path / "ailleurs"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GANDRANGE_DESK_", "PYTHON"))}
    env.update(GANDRANGE_DESK_LOG_DIR=str(work / "logs"), GANDRANGE_DESK_CONFIG=str(work / "poste.toml"),
               XDG_CACHE_HOME=str(work / "cache"), PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    program = bindir / ("gandrange-desk.exe" if os.name == "nt" else "gandrange-desk")
    db = str(work / "base.sqlite3")

    def run(*args: str) -> str:
        done = subprocess.run([str(program), "--db", db, *args], capture_output=True, cwd=work, env=env, timeout=600)
        out, err = done.stdout.decode("utf-8"), done.stderr.decode("utf-8")
        assert done.returncode == 0 and "Traceback" not in err, f"{args}: {out}\n{err}"
        return out

    where = subprocess.run([str(python), "-c", "import gandrange_desk.paths as p; print(p.resources_dir())"],
                           capture_output=True, text=True, cwd=work, env=env, check=True).stdout.strip()
    assert Path(where) == Path(target_site) / "gandrange_desk" / "resources"
    run("db", "upgrade")
    run("demo", "--families", "12")
    env.update(GANDRANGE_DESK_USER="nbecker", GANDRANGE_DESK_PASSWORD="demo1234")  # the demo's responsable
    month = date.today().strftime("%Y-%m")
    run("invoices", "prepare", "--month", month)
    assert "émise" in run("invoices", "issue", "--month", month)
    run("invoices", "print", "--month", month, "--out", str(work / "mois.pdf"))
    reader = PdfReader(work / "mois.pdf")
    text = reader.pages[0].extract_text()
    assert "Facture" in text and "€" in text
    fonts = {str(f.get("/BaseFont")) for page in reader.pages[:1]
             for f in page["/Resources"]["/Font"].get_object().values() if hasattr(f, "get")}
    assert any("DejaVu" in name for name in fonts), fonts
