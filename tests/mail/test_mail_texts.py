"""The e-mails in the portal guide's words, compared whole."""

from datetime import date

from gandrange_desk.services.mail.texts import (
    BILLED,
    BOOKING,
    CANCELLATION,
    EXCUSED,
    CellLine,
    Sender,
    cell_decisions_mail,
    family_change_mail,
    registration_accepted_mail,
    registration_refused_mail,
)

SENDER = Sender("Service Enfance-Jeunesse — Commune de Gandrange", "03 87 67 17 79",
                portal_url="https://enfance-jeunesse-gandrange.leportailfamille.fr")

SIGNATURE = """Cordialement,

Le bureau périscolaire
Service Enfance-Jeunesse — Commune de Gandrange
Tél. : 03 87 67 17 79
"""


def test_one_booking_accepted_is_the_guide_mail():
    mail = cell_decisions_mail(SENDER, "Périscolaire", [
        CellLine(BOOKING, True, "Repas", date(2026, 3, 13)),
    ])
    assert mail.subject == "Demande de réservation acceptée — Périscolaire"
    assert mail.text == """Bonjour,

Nous vous informons que votre demande de réservation concernant Service Enfance-Jeunesse — Commune de Gandrange pour la prestation Périscolaire a été acceptée.

Ci-dessous, le détail de la réponse concernant vos demandes de réservation :

Repas
1 réservation acceptée le : 13/03

""" + SIGNATURE


def test_bookings_grouped_by_unit_plural_and_dates_ascending():
    mail = cell_decisions_mail(SENDER, "Périscolaire", [
        CellLine(BOOKING, True, "Accueil soir", date(2026, 3, 14), unit_position=2),
        CellLine(BOOKING, True, "Repas", date(2026, 3, 14), unit_position=1),
        CellLine(BOOKING, True, "Repas", date(2026, 3, 13), unit_position=1),
    ])
    assert mail.text == """Bonjour,

Nous vous informons que votre demande de réservation concernant Service Enfance-Jeunesse — Commune de Gandrange pour la prestation Périscolaire a été acceptée.

Ci-dessous, le détail de la réponse concernant vos demandes de réservation :

Repas
2 réservations acceptées les : 13/03, 14/03

Accueil soir
1 réservation acceptée le : 14/03

""" + SIGNATURE


def test_cancellations_excused_then_billed_as_in_the_guide():
    mail = cell_decisions_mail(SENDER, "MERCREDI", [
        CellLine(CANCELLATION, True, "Journée complète", date(2026, 5, 20), billing=BILLED),
        CellLine(CANCELLATION, True, "Journée complète", date(2026, 5, 13), billing=EXCUSED),
        CellLine(CANCELLATION, True, "Journée complète", date(2026, 5, 6), billing=EXCUSED),
    ])
    assert mail.subject == "Demande d'annulation acceptée — MERCREDI"
    assert mail.text == """Bonjour,

Nous vous informons que votre demande d'annulation concernant Service Enfance-Jeunesse — Commune de Gandrange pour la prestation MERCREDI a été acceptée.

Ci-dessous, le détail de la réponse concernant vos demandes d'annulation :

Journée complète
2 annulations excusées les : 06/05, 13/05
1 annulation facturée le : 20/05

""" + SIGNATURE
    assert "2 annulations excusées les : 06/05, 13/05<br>" in mail.html
    assert mail.html.startswith("<!DOCTYPE html>")


def test_refusals_carry_their_reason_and_mixed_rounds_keep_each_wording():
    mail = cell_decisions_mail(SENDER, "Périscolaire", [
        CellLine(BOOKING, True, "Repas", date(2026, 3, 13)),
        CellLine(BOOKING, False, "Accueil matin", date(2026, 3, 16), reason="Plus de place disponible."),
        CellLine(CANCELLATION, False, "Repas", date(2026, 3, 12), reason="Demande hors délai."),
    ])
    assert mail.subject == "Réponse à vos demandes — Périscolaire"
    assert mail.text == """Bonjour,

Nous vous informons que votre demande de réservation concernant Service Enfance-Jeunesse — Commune de Gandrange pour la prestation Périscolaire a été acceptée.

Ci-dessous, le détail de la réponse concernant vos demandes de réservation :

Repas
1 réservation acceptée le : 13/03

Nous vous informons que votre demande de réservation concernant Service Enfance-Jeunesse — Commune de Gandrange pour la prestation Périscolaire a été refusée.

Ci-dessous, le détail de la réponse concernant vos demandes de réservation :

Accueil matin
1 réservation refusée le : 16/03
Motif : Plus de place disponible.

Nous vous informons que votre demande d'annulation concernant Service Enfance-Jeunesse — Commune de Gandrange pour la prestation Périscolaire a été refusée.

Ci-dessous, le détail de la réponse concernant vos demandes d'annulation :

Repas
1 annulation refusée le : 12/03
Motif : Demande hors délai.

""" + SIGNATURE


def test_several_children_name_the_child_under_each_unit():
    mail = cell_decisions_mail(SENDER, "Périscolaire", [
        CellLine(BOOKING, True, "Repas", date(2026, 3, 13), child="Léa Keller"),
        CellLine(BOOKING, True, "Repas", date(2026, 3, 13), child="Jules Keller"),
    ])
    assert "Repas — Jules Keller\n1 réservation acceptée le : 13/03\n\nRepas — Léa Keller\n1 réservation acceptée le : 13/03" in mail.text


def test_registration_accepted_gives_credentials_and_portal():
    mail = registration_accepted_mail(SENDER, "Keller", "sophie.keller@example.org", "Tq7-mZp4-K")
    assert mail.subject == "Votre inscription au Portail Famille a été acceptée"
    assert mail.text == """Bonjour,

Nous vous informons que votre inscription concernant Service Enfance-Jeunesse — Commune de Gandrange a été acceptée (famille Keller).

Vous pouvez dès à présent vous connecter au Portail Famille pour terminer votre inscription, avec les identifiants ci-dessous :

Adresse du portail : https://enfance-jeunesse-gandrange.leportailfamille.fr
Identifiant : sophie.keller@example.org
Mot de passe provisoire : Tq7-mZp4-K

Ce mot de passe est provisoire : choisissez-en un nouveau dès votre première connexion, dans « Mon compte ».

""" + SIGNATURE


def test_registration_refused_and_family_change_texts():
    refused = registration_refused_mail(SENDER, "Keller", "Famille déjà inscrite sous un autre identifiant.")
    assert refused.text == """Bonjour,

Nous vous informons que votre demande d'inscription concernant Service Enfance-Jeunesse — Commune de Gandrange (famille Keller) a été refusée.

Motif : Famille déjà inscrite sous un autre identifiant.

Pour toute question, le bureau périscolaire reste à votre disposition.

""" + SIGNATURE
    change = family_change_mail(SENDER, [("Téléphone de Sophie Keller", "06 99 88 77 66")],
                                ["Adresse — rue"], "Justificatif de domicile manquant.")
    assert change.subject == "Modification de vos informations acceptée en partie"
    assert change.text == """Bonjour,

Nous vous informons que votre demande de modification de vos informations concernant Service Enfance-Jeunesse — Commune de Gandrange a été acceptée en partie.

Modifications enregistrées :
Téléphone de Sophie Keller : 06 99 88 77 66

Modifications non retenues :
Adresse — rue
Motif : Justificatif de domicile manquant.

""" + SIGNATURE


def test_html_escapes_what_families_typed():
    mail = registration_refused_mail(SENDER, "<b>Keller</b>", "a & b")
    assert "&lt;b&gt;Keller&lt;/b&gt;" in mail.html and "a &amp; b" in mail.html
