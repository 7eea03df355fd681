"""Issue 11: the family file's forms check through the same validation layer as the feed, so a
NUL, a header injection or a postcode no département has is refused before the database sees it."""

from __future__ import annotations

import pytest

from gandrange_desk.services.families import file as fam
from gandrange_desk.services.families.validation import FieldProblems
from tests.families.test_families import foyer_of, guardians_of, muller  # noqa: F401 (the fixture)


def test_control_characters_and_header_injection_are_refused_per_field(desk, muller):  # noqa: F811
    snap = fam.get_family(desk, muller.id)
    bad = guardians_of(snap)
    bad[0].email = "lea@example.org\r\nBcc: x@evil.example"
    bad[1].first_name = "Jé\x00rôme"
    with pytest.raises(FieldProblems) as err:
        fam.save_family(desk, muller.id, snap.version, guardians=bad,
                        foyer=foyer_of(snap, postcode="00123", notes="Appeler\x1b[31m le soir"))
    assert err.value.fields == {
        "foyer.postcode": "Code postal : « 00123 » n'est pas un code postal français (5 chiffres, exemple : 57175).",
        "foyer.notes": "Notes : caractère de contrôle interdit (position 8).",
        "guardians[0].email": "E-mail du responsable 1 : caractère de contrôle interdit (position 16).",
        "guardians[1].first_name": "Prénom du responsable 2 : caractère de contrôle interdit (NUL) (position 3).",
    }
    after = fam.get_family(desk, muller.id)
    assert after.version == snap.version and after.guardians[1].first_name == "Jérôme"


def test_notes_keep_their_line_breaks_and_phones_their_usual_form(desk, muller):  # noqa: F811
    snap = fam.get_family(desk, muller.id)
    people = guardians_of(snap)
    people[1].phone = "+352 621 123 456"
    fam.save_family(desk, muller.id, snap.version, foyer=foyer_of(snap, notes="Ligne 1\nLigne 2"), guardians=people)
    after = fam.get_family(desk, muller.id)
    assert after.notes == "Ligne 1\nLigne 2" and after.guardians[1].phone == "+352 621 123 456"
