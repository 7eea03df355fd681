"""The PDF layer (fpdf2, fontTools, PIL, pypdf: ~40 MB and ~0.3 s) loads when a PDF is drawn, not
when billing, validation or their screens are imported (issue 14, a working session's memory)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DRAWING = ("fpdf", "fontTools", "PIL", "pypdf")

PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
loaded = sorted({m.split('.')[0] for m in sys.modules} & set(%r))
print(json.dumps(loaded))
""" % (DRAWING,)


def loaded_after_import(*modules: str) -> list[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", PROBE, *modules], capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


BILLING_SERVICES = [f"gandrange_desk.services.billing.{name}" for name in (
    "invoicing", "regularisation", "invoice_views", "month_checks", "credit_notes", "attestations",
    "reminders", "payments", "sepa", "reversals", "statement", "tariffs")]


def test_billing_services_import_no_pdf_layer():
    assert loaded_after_import(*BILLING_SERVICES, "gandrange_desk.services.mail.sender",
                               "gandrange_desk.services.mail.notices") == []


@pytest.mark.parametrize("package", ["billing", "validation"])
def test_billing_and_validation_screens_import_no_pdf_layer(package):
    folder = ROOT / "gandrange_desk" / "ui" / package
    modules = [f"gandrange_desk.ui.{package}.{p.stem}" for p in sorted(folder.glob("*.py")) if p.stem != "__init__"]
    assert modules
    assert loaded_after_import(*modules) == []


def test_no_screen_of_the_window_imports_the_pdf_layer():
    # Every tab and dialog: a PDF is drawn on demand, never loaded with the screen that offers it.
    modules = [".".join(p.relative_to(ROOT).with_suffix("").parts)
               for p in sorted((ROOT / "gandrange_desk" / "ui").rglob("*.py")) if p.stem != "__init__"]
    assert len(modules) > 30
    assert loaded_after_import(*modules) == []


def test_drawing_an_invoice_loads_the_pdf_layer():
    # The probe is not blind: the module that draws invoices does bring fpdf2 in.
    assert "fpdf" in loaded_after_import("gandrange_desk.services.pdf.invoice")
