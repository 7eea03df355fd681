"""A message to many families: all of them, or those of one activity or one school; one e-mail
each in the outbox, a letter for those without e-mail, nothing sent on bad input."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from gandrange_desk.cli import main
from gandrange_desk.errors import NotFound, ValidationFailed
from gandrange_desk.models import AuditEntry, Family, OutboxMessage
from gandrange_desk.services.mail import notices
from tests.builders import load_example_settings, make_booking, make_family, unit_id

# Commands act as an authenticated desk user (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cli_user")

BODY = "Bonjour,\n\nLe périscolaire sera fermé le vendredi 18 décembre.\n\nMerci de votre compréhension."


@pytest.fixture
def town(desk, clock):
    clock.set(2026, 12, 4, 9, 0)
    load_example_settings(desk)
    keller = make_family(desk, "Keller", ref="F-0001", children=[{"first_name": "Jules", "school": "École maternelle"}])
    make_family(desk, "Muller", ref="F-0002", guardians=[{"first_name": "Paul", "last_name": "Muller", "email": ""}])
    make_family(desk, "Archivée", ref="F-0003")
    with desk.unit_of_work() as s:
        s.execute(select(Family).where(Family.ref == "F-0003")).scalar_one().archived = True
    make_booking(desk, keller.children[0].id, unit_id(desk, "MERCREDI", "Journée complète"), date(2026, 12, 9))
    return desk


def outbox(desk):
    with desk.read() as s:
        return list(s.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def test_everyone_one_email_each_and_a_letter_without_email(town):
    aud = notices.audience(town)
    assert [f.ref for f in aud.families] == ["F-0001", "F-0002"]  # never an archived family
    assert aud.text() == "2 familles (toutes les familles) : 1 e-mail, 1 lettre à imprimer (sans e-mail)."
    result = notices.message_families(town, "Fermeture exceptionnelle", BODY)
    assert result.queued == 1 and result.without_email == [("F-0002", "Muller")]
    assert result.summary() == ("1 message mis en file d'envoi. 1 famille sans e-mail : lettres à imprimer "
                                "(Muller (F-0002)).")
    [mail] = outbox(town)
    assert mail.subject == "Fermeture exceptionnelle" and mail.kind == "message"
    assert mail.body_text.startswith("Bonjour,\n\nLe périscolaire sera fermé le vendredi 18 décembre.")
    assert mail.body_text.count("Bonjour,") == 1 and "Cordialement," in mail.body_text
    letter = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(result.letters_pdf)).pages)
    assert "Muller" in letter and "fermé le vendredi 18 décembre" in letter and "Madame, Monsieur," in letter
    with town.read() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "notice.send")).scalar_one()
    assert json.loads(entry.after)["families"] == 2


def test_one_activity_or_one_school(town):
    assert [f.ref for f in notices.audience(town, activity="mercredi").families] == ["F-0001"]
    assert [f.ref for f in notices.audience(town, school="École élémentaire").families] == ["F-0002"]
    assert notices.audience(town, activity="MERCREDI", school="École élémentaire").families == []
    with pytest.raises(ValidationFailed, match="Aucune famille à qui écrire"):
        notices.message_families(town, "Objet", BODY, activity="MERCREDI", school="École élémentaire")
    with pytest.raises(NotFound, match="Activité inconnue : « PISCINE »"):
        notices.audience(town, activity="PISCINE")
    with pytest.raises(ValidationFailed) as exc:
        notices.message_families(town, "  ", "Bonjour,\n\n")
    assert exc.value.problems == ["L'objet du message est vide.", "Le texte du message est vide."]
    assert outbox(town) == []


def test_the_command_line(town, db_url, capsys, tmp_path):
    body = tmp_path / "texte.txt"
    body.write_text(BODY, encoding="utf-8")
    args = ["--db", db_url, "families", "message", "--activity", "MERCREDI", "--subject", "Sortie",
            "--body-file", str(body)]
    assert main([*args, "--dry-run"]) == 0
    assert "1 famille (activité MERCREDI) : 1 e-mail." in capsys.readouterr().out
    assert outbox(town) == []
    assert main(args) == 0
    assert "1 message mis en file d'envoi." in capsys.readouterr().out
    assert [m.subject for m in outbox(town)] == ["Sortie"]


def test_the_dialog_counts_before_sending(qtbot, town):
    from gandrange_desk.ui.mail.notice_dialog import NoticeDialog

    dialog = NoticeDialog(town)
    qtbot.addWidget(dialog)
    assert dialog.reach.text().startswith("Destinataires : 2 familles (toutes les familles)")
    dialog.school.setCurrentIndex(dialog.school.findData("École maternelle"))
    dialog.count()
    assert dialog.reach.text() == "Destinataires : 1 famille (École maternelle) : 1 e-mail."
    dialog.subject.setText("Fermeture")
    dialog.body.setPlainText(BODY)
    asked, told = [], []
    dialog.confirm = lambda text: asked.append(text) or True
    dialog.inform = told.append
    dialog.send()
    assert asked == ["Envoyer « Fermeture » à 1 famille (École maternelle) : 1 e-mail."]
    assert told == ["1 message mis en file d'envoi."] and [m.subject for m in outbox(town)] == ["Fermeture"]


def test_a_dialog_not_on_screen_counts_nothing_later(qtbot, town):
    """The delayed count belongs to a dialog on screen: one never shown, or closed, may outlive
    its base (it did, between two tests) and must not query it."""
    from gandrange_desk.ui.mail.notice_dialog import NoticeDialog

    dialog = NoticeDialog(town)
    qtbot.addWidget(dialog)
    before = dialog.reach.text()
    dialog.school.setCurrentIndex(dialog.school.findData("École maternelle"))
    qtbot.wait(400)
    assert dialog.reach.text() == before
