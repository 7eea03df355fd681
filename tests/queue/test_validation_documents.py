"""A document sent through « Mes envois » in the Validation tab: said for what it is, opened from
the detail, marked checked with A, or another asked for with R (the family gets the reason)."""

from __future__ import annotations

from datetime import date
import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from gandrange_desk.models import Document, OutboxMessage
from gandrange_desk.services.portal import uploads
from gandrange_desk.ui.families import docs
from gandrange_desk.ui.validation.dialogs import RefusalDialog
from gandrange_desk.ui.validation.tab import ValidationTab
from tests.builders import load_example_settings, make_family

def a_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(0, 10, "Attestation d'assurance")
    return bytes(pdf.output())


PDF = a_pdf()
SHOTS = os.environ.get("GD_SHOTS")  # set to a folder to keep screenshots


@pytest.fixture
def sent(desk, clock, qtbot):
    clock.set(2026, 5, 4, 10, 0)
    load_example_settings(desk)
    family = make_family(desk, "Keller", ref="F-0042", guardians=[
        {"first_name": "Sophie", "last_name": "Keller", "email": "sophie.keller@example.org"}],
        children=[{"ref": "E-0107", "first_name": "Jules", "birth_date": date(2019, 5, 2)}])
    kind = sorted(uploads.KINDS)[0]
    document_id = uploads.upload(desk, family.id, kind, "attestation.pdf", PDF)
    tab = ValidationTab(desk)
    qtbot.addWidget(tab)
    tab.resize(1366, 697)
    tab.show()
    tab.refresh()
    return tab, document_id, kind


def test_a_document_is_shown_for_what_it_is_and_opens(sent, qtbot, monkeypatch):
    tab, document_id, kind = sent
    assert tab.current_item().kind == "document"
    assert tab.model.data(tab.tree.currentIndex()) == f"Document : {kind}"
    text = tab.detail_info.text()
    assert "Document reçu par « Mes envois »" in text and kind in text and "attestation.pdf" in text
    assert tab.accept_button.text() == "Vérifié (A)"
    assert tab.refuse_button.text() == "Demander un autre… (R)"
    if SHOTS:
        tab.grab().save(str(Path(SHOTS) / "validation_document.png"))
    opened: list[Path] = []
    monkeypatch.setattr(docs, "show_file", opened.append)
    tab.detail_info.linkActivated.emit(f"document:{document_id}")
    assert opened and opened[0].read_bytes() == PDF


def test_a_checked_document_and_another_asked_for(sent, desk, qtbot):
    tab, document_id, _kind = sent
    tab.ask_reason = lambda count: "Document illisible"
    qtbot.keyClick(tab.tree, Qt.Key_R)
    with desk.read() as s:
        d = s.get(Document, document_id)
        assert (d.state, d.reason) == ("redo", "Document illisible")
        mails = list(s.execute(select(OutboxMessage)).scalars())
    assert any("Document illisible" in m.body_text and "Mes envois" in m.body_text for m in mails)


def test_the_reason_dialog_speaks_of_documents(qtbot):
    dialog = RefusalDialog(1, documents=True)
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "Demander un autre document"
    assert dialog.reason.itemText(0) == "Document illisible"
