"""Printing: the PDF goes to the system's spooler as a PDF, off the UI thread, with progress and
cancel. On a real CUPS queue with a PDF printer (cups-pdf), the printed text is read back."""

from __future__ import annotations

import io
import subprocess
import threading
from datetime import date

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt

from gandrange_desk.errors import DeskError
from gandrange_desk.services.billing import invoice_views, invoicing
from gandrange_desk.services.pdf import spool
from gandrange_desk.services.progress import Cancelled, Progress
from gandrange_desk.ui.billing.tab import BillingTab
from tests.billing.test_invoicing import NOV, NOV_DAYS, book
from tests.builders import load_example_settings, make_family, unit_id


@pytest.fixture
def issued(desk, clock):
    load_example_settings(desk)
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    for name in ("Arnaud", "Bernard", "Clément"):
        fam = make_family(desk, name)
        book(desk, fam.children[0].id, repas, NOV_DAYS[:4])
    clock.set(2026, 12, 2, 10, 0)
    invoicing.prepare(desk, NOV)
    invoicing.issue(desk, NOV)
    return desk


def _images(reader: PdfReader) -> int:
    count = 0
    for page in reader.pages:
        xobjects = page.get("/Resources", {}).get("/XObject", {}) or {}
        count += sum(1 for x in xobjects.values() if x.get_object().get("/Subtype") == "/Image")
    return count


def test_month_printed_on_a_real_cups_queue_as_vector_pdf(issued, cups):
    server, queue = cups
    assert queue in [p.name for p in spool.printers()]
    data = invoice_views.pdf_for_printing(issued, NOV)
    steps = []
    job = spool.spool_pdf(data, printer=queue, title="Factures novembre 2026",
                          progress=Progress(report=lambda d, t, label: steps.append(label)))
    assert job.done and job.pages == 3
    assert job.summary() == f"3 pages imprimées sur « {queue} » (travail {job.job_id})."
    assert steps[0] == "Envoi de 3 pages à l'imprimante…"
    printed = PdfReader(str(server.printed(job.job_id)))
    text = " ".join(page.extract_text() for page in printed.pages)
    assert len(printed.pages) == 3
    for number in ("2026-000001", "2026-000002", "2026-000003"):
        assert number in text
    assert "Arnaud" in text and "Voies et délais de recours" in text
    assert _images(printed) == 0  # pages went as vectors and text, never as pictures


def test_print_cancelled_while_waiting_leaves_nothing_printed(issued, cups):
    server, queue = cups
    subprocess.run(["cupsdisable", queue], env=server.env, check=True)
    try:
        data = invoice_views.pdf_for_printing(issued, NOV)
        progress = Progress()
        progress._report = lambda d, t, label: progress.cancel() if label.startswith("Impression sur") else None
        with pytest.raises(Cancelled):
            spool.spool_pdf(data, printer=queue, title="Annulé", progress=progress)
        pending = subprocess.run(["lpstat", "-W", "not-completed", "-o", queue], env=server.env,
                                 capture_output=True, text=True).stdout
        assert pending.strip() == ""
        # A stopped printer without a cancel: said in French, the job waits in its queue.
        with pytest.raises(DeskError, match=f"L'imprimante « {queue} » est arrêtée"):
            spool.spool_pdf(data, printer=queue, title="En attente")
        subprocess.run(["cancel", "-a", queue], env=server.env, check=True)
    finally:
        subprocess.run(["cupsenable", queue], env=server.env, check=True)
    assert not list(server.out.glob("Annul*"))


def test_unknown_printer_is_one_french_sentence(issued, cups):
    with pytest.raises(DeskError, match="L'imprimante a refusé le document"):
        spool.spool_pdf(invoice_views.pdf_for_printing(issued, NOV), printer="Inexistante", title="x")


def test_billing_tab_prints_off_the_ui_thread(qtbot, issued, cups, monkeypatch):
    server, queue = cups
    tab = BillingTab(issued)
    qtbot.addWidget(tab)
    messages = []
    tab.inform = lambda title, text: messages.append(text)
    tab.warn = lambda title, text: messages.append(text)
    tab.choose_printer = lambda: queue
    threads = []
    original = spool.spool_pdf

    def spy(*args, **kwargs):
        threads.append(threading.current_thread() is threading.main_thread())
        return original(*args, **kwargs)

    monkeypatch.setattr(spool, "spool_pdf", spy)
    assert tab.month() == NOV
    qtbot.mouseClick(tab.print_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: bool(messages), timeout=60000)
    assert threads == [False]
    assert messages[-1].startswith(f"3 pages imprimées sur « {queue} »")
    job_id = messages[-1].split("(travail ")[1].rstrip(").")
    assert "2026-000002" in PdfReader(str(server.printed(job_id))).pages[1].extract_text()


def test_windows_prints_through_the_shell_verbs(monkeypatch, tmp_path):
    import ctypes

    calls = []

    class Shell32:
        @staticmethod
        def ShellExecuteW(hwnd, verb, path, params, folder, show):
            calls.append((verb, params, open(path, "rb").read(4)))
            return 42

    class WinDLL:
        shell32 = Shell32()

    monkeypatch.setattr(ctypes, "windll", WinDLL(), raising=False)
    monkeypatch.setattr(spool, "_windows", lambda: True)
    monkeypatch.setattr("tempfile.gettempdir", lambda: str(tmp_path))
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    data = bytes(pdf.output())
    job = spool.spool_pdf(data, printer="Bureau périscolaire", title="Factures novembre 2026")
    assert calls[-1] == ("printto", '"Bureau périscolaire"', b"%PDF")
    assert job.summary() == "1 page envoyée à « Bureau périscolaire »."
    spool.spool_pdf(data, printer=None, title="Factures")
    assert calls[-1][:2] == ("print", None)
