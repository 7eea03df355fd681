"""End to end in a real browser (Playwright driving Debian's chromium) against the portal
served by uvicorn, the desk acting through its own services between the family's steps.

The scenario is the guide's: the credentials e-mail (delivered by the desk's sender to a real
local SMTP server and read there) → first sign-in → own password → Réservations sur période
(Total shown) → the desk accepts → R in the grid and the guide's e-mail → an R clicked → DA →
the desk accepts it as excusée → the month invoiced → Historique lists it and its PDF downloads.
Run once at a desktop size and once at a phone's. Screenshots go to `test-artifacts/`.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from gandrange_desk.models import Activity, Family, OutboxMessage, SmtpSettings, Structure
from gandrange_desk.services import queue
from gandrange_desk.services.billing import invoicing
from gandrange_desk.services.families.portal import send_credentials
from gandrange_desk.services.mail.sender import send_pending
from gandrange_desk.services.queue.listing import pending_items
from tests.builders import unit_id
from tests.smtp_server import SmtpServer

from .conftest import SECRET
from .live import LivePortal

CHROMIUM = os.environ.get("GANDRANGE_DESK_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("GANDRANGE_DESK_TEST_ARTIFACTS",
                                Path(__file__).resolve().parents[2] / "test-artifacts")) / "portal-e2e"
VIEWPORTS = {
    "ordinateur": {"viewport": {"width": 1366, "height": 768}},
    "telephone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
                  "device_scale_factor": 2},
}
NEW_PASSWORD = "Mon-mot-de-passe-2026"


def _browser_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright pour Python n'est pas installé (pip install -e \".[test]\")"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)) and not shutil.which(CHROMIUM):
        return f"chromium absent ({CHROMIUM}) : apt-get install chromium"
    return None


pytestmark = pytest.mark.skipif(bool(_browser_missing()), reason=_browser_missing() or "")


def _configure_smtp(desk, port: int) -> None:
    with desk.unit_of_work() as s:
        row = s.execute(select(SmtpSettings)).scalar_one_or_none() or SmtpSettings()
        row.host, row.port, row.security, row.user = "127.0.0.1", port, "none", ""
        row.sender = row.reply_to = "Bureau périscolaire <bureau@mairie-gandrange.example>"
        s.add(row)
    with desk.unit_of_work() as s:
        st = s.execute(select(Structure)).scalar_one()
        st.issuer_name, st.issuer_role = "Marie Dupont", "Responsable du service Enfance-Jeunesse"
        st.sepa_ics, st.siret = "FR12ZZZ123456", "21570242700018"


def _delivered(desk, server) -> list[str]:
    """Deliver the outbox through the desk's sender; the plain-text bodies the server got."""
    send_pending(desk)
    return [r.message.get_body(("plain",)).get_content() for r in server.handler.received]


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_the_guide_from_the_credentials_e_mail_to_the_invoice_pdf(desk, portal_base, backend, size, clock):
    from playwright.sync_api import expect, sync_playwright

    shots = ARTIFACTS / f"{backend}-{size}"
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    family_id = portal_base["martin"]
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    with desk.read() as s:
        lea = s.get(Family, family_id).children[0].id
        periscolaire = s.execute(select(Activity.id).where(Activity.code == "PERISCOLAIRE")).scalar_one()

    with SmtpServer() as smtp, LivePortal(desk, SECRET) as portal, sync_playwright() as pw:
        _configure_smtp(desk, smtp.port)
        # The desk's "Envoyer les identifiants", delivered for real and read in the mailbox.
        with desk.read() as s:
            version = s.get(Family, family_id).version
        send_credentials(desk, family_id, version)
        [mail] = _delivered(desk, smtp)
        login = re.search(r"Identifiant : (\S+)", mail).group(1)
        temporary = re.search(r"Mot de passe provisoire : (\S+)", mail).group(1)

        browser = pw.chromium.launch(executable_path=CHROMIUM,
                                     args=["--no-sandbox", "--disable-dev-shm-usage", "--lang=fr-FR"])
        try:
            context = browser.new_context(locale="fr-FR", accept_downloads=True, **VIEWPORTS[size])
            page = context.new_page()
            n = iter(range(1, 100))

            def shot(name: str) -> None:
                page.screenshot(path=str(shots / f"{next(n):02d}-{name}.png"), full_page=True)

            # Connexion, then the forced password change.
            page.goto(portal.url + "/")
            expect(page.get_by_role("heading", name="Bienvenue sur le portail Famille !")).to_be_visible()
            page.get_by_label("Identifiant").fill(login)
            page.get_by_label("Mot de passe").fill(temporary)
            shot("connexion")
            page.get_by_role("button", name="Se connecter").click()
            expect(page.get_by_text("Première connexion : choisissez votre propre mot de passe")).to_be_visible()
            page.locator("#actuel").fill(temporary)
            page.locator("#nouveau").fill(NEW_PASSWORD)
            page.locator("#confirmation").fill(NEW_PASSWORD)
            shot("premier-mot-de-passe")
            page.get_by_role("button", name="Enregistrer").click()
            expect(page.get_by_text("Votre mot de passe est enregistré.")).to_be_visible()
            for tile in ("Téléchargements", "Réservations", "Factures et documents", "Gérer votre compte"):
                expect(page.locator(".tuile", has_text=tile)).to_be_visible()
            shot("accueil")

            # Réservations sur période: Mondays and Thursdays of two weeks for Léa.
            page.goto(portal.url + "/reservations/periode")
            page.get_by_label("Hugo Martin").uncheck()
            page.locator("#structure").select_option(str(repas))
            page.locator("#debut").fill("2026-12-07")
            page.locator("#fin").fill("2026-12-18")
            page.get_by_label("Lundi").check()
            page.get_by_label("Jeudi").check()
            expect(page.locator("#total")).to_have_text("Total : 4")  # 7, 10, 14 and 17 December
            shot("periode-total")
            page.get_by_role("button", name="RÉSERVER").click()
            expect(page.get_by_role("status")).to_contain_text("4 demandes de réservation envoyées")

            # The desk accepts: R in the grid, the guide's e-mail delivered.
            queue.accept(desk, [i.id for i in pending_items(desk) if i.child_id == lea])
            bodies = _delivered(desk, smtp)[1:]
            assert any("a été acceptée" in b and "4 réservations acceptées les : 07/12, 10/12, 14/12, 17/12" in b
                       for b in bodies), bodies
            grid = f"{portal.url}/reservations?enfant={lea}&activite={periscolaire}&mois=2026-12"
            page.goto(grid)
            cell = page.locator(f'button[name="case"][value="{repas}:2026-12-10"]')
            expect(cell).to_have_text("R")
            shot("grille-r")

            # Cancellation: the R clicked becomes DA; the desk excuses it.
            cell.click()
            expect(page.get_by_role("status")).to_contain_text("1 demande d'annulation envoyée")
            expect(page.locator("td.etat-DA")).to_have_text("DA")
            shot("grille-da")
            [item] = [i for i in pending_items(desk) if i.child_id == lea]
            queue.accept(desk, [item.id], billing="excused")
            assert any("1 annulation excusée le : 10/12" in b for b in _delivered(desk, smtp)[2:])
            page.reload()  # Post/Redirect/Get: a reload only shows the grid again
            expect(page.locator(f'button[name="case"][value="{repas}:2026-12-10"]')).to_have_attribute(
                "title", "Demander la réservation")  # white again

            # The month invoiced by the desk; Historique lists it and the PDF downloads.
            clock.set(2027, 1, 4, 10, 0)
            invoicing.prepare(desk, date(2026, 12, 1))
            invoicing.issue(desk, date(2026, 12, 1))
            page.get_by_role("link", name="Factures et documents").first.click()
            row = page.locator("tr", has_text="Facture de décembre 2026")
            expect(row).to_be_visible()
            shot("historique")
            with page.expect_download() as info:
                row.get_by_role("link", name="Télécharger (PDF)").click()
            pdf = Path(info.value.path()).read_bytes()
            number = row.locator("td").nth(1).inner_text().strip()
            text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
            assert number and number in text and "Martin" in text
            assert info.value.suggested_filename.endswith(".pdf")

            # An attestation of the month, and a document sent through « Mes envois ».
            page.get_by_label("Du").fill("2026-12-01")
            page.get_by_label("Au").fill("2026-12-31")
            with page.expect_download() as info:
                page.get_by_role("button", name="Attestation de présence et de paiement (PDF)").click()
            text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(Path(info.value.path()).read_bytes())).pages)
            assert "Martin" in text and "01/12/2026" in text
            page.get_by_role("link", name="Mes envois").last.click()
            page.get_by_label("Type de document").select_option("Justificatif de domicile")
            page.get_by_label("Fichier (PDF, JPEG ou PNG, 5 Mo au plus)").set_input_files(
                files=[{"name": "domicile.pdf", "mimeType": "application/pdf", "buffer": pdf}])
            page.get_by_role("button", name="Envoyer").click()
            expect(page.get_by_role("status")).to_contain_text("en attente de vérification")
            expect(page.locator("tr", has_text="domicile.pdf")).to_contain_text("En attente de vérification")
            shot("mes-envois")
            assert [i.kind for i in pending_items(desk) if i.family_id == family_id] == ["document"]
            context.close()
        finally:
            browser.close()
    with desk.read() as s:
        kinds = s.execute(select(OutboxMessage.kind).where(OutboxMessage.family_id == family_id)).scalars().all()
    assert "credentials" in kinds
