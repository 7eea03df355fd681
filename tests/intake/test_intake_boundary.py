"""Issue 11, the feed's boundary: what a family types is checked as the family file's form checks
it, before the database sees it, with the same French line on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from gandrange_desk.errors import ValidationFailed
from gandrange_desk.models import Child, Family, Guardian
from gandrange_desk.services import queue
from gandrange_desk.services.intake import feed as intake
from tests.builders import load_example_settings, make_family
from tests.intake.test_intake import counts, entry, feed


@pytest.fixture
def office(desk, clock):
    clock.set(2026, 3, 11, 12, 0)
    load_example_settings(desk)
    make_family(desk, "Keller", ref="F-0042", guardians=[
        {"first_name": "Claire", "last_name": "Keller", "email": "claire@example.org"},
        {"first_name": "Marc", "last_name": "Keller", "email": "marc@example.org"}],
        children=[{"ref": "E-0107", "first_name": "Jules", "birth_date": date(2019, 5, 2)}])
    return desk


def refused(desk, *entries) -> list[str]:
    before = counts(desk)
    with pytest.raises(ValidationFailed) as info:
        intake.import_feed(desk, feed(*entries))
    assert counts(desk) == before  # nothing written
    return info.value.problems


def registration(ref="P-9", postcode="57175", birth="2019-01-01", **guardian):
    g = {"first_name": "Anne", "last_name": "Weber", **guardian}
    return entry(ref, kind="registration", family={
        "ref": "F-2000", "name": "Weber", "address": {"postcode": postcode},
        "guardians": [g], "children": [{"ref": "E-3000", "first_name": "Tom", "last_name": "Weber",
                                        "birth_date": birth, "school": "École maternelle"}]})


def test_header_injection_in_an_email_is_refused_with_its_ref(office):
    problems = refused(office, registration(email="a@b.fr\r\nBcc: x@evil"))
    assert problems == ["Entrée P-9 : « family.guardians[0].email » : caractère de contrôle interdit "
                        "(position 7)."]


def test_nul_and_over_long_values_never_reach_the_database(office):
    problems = refused(office,
                       entry("P-1", kind="family_change", changes={"address.city": "Rom\x00bas"}),
                       entry("P-2", kind="family_change", changes={"address.street": "x" * 301}))
    assert problems[0].startswith("Entrée P-1 : ") and "caractère de contrôle interdit (NUL)" in problems[0]
    assert problems[1] == ("Entrée P-2 : « address.street » : trop long (301 caractères, au plus 300).")


def test_lone_surrogate_in_a_ref_is_a_french_line(office):
    data = '{"requests": [{"ref": "P-\\ud800", "kind": "booking"}]}'
    with pytest.raises(ValidationFailed) as info:
        intake.import_feed(office, data)
    line = info.value.problems[0]
    assert line.startswith("Entrée n° 1 : « ref » invalide (caractère invalide")
    line.encode("utf-8")  # printable: the message itself holds no lone surrogate


def test_dates_outside_a_sane_window(office):
    problems = refused(office, entry("P-1", dates=["9999-12-31"]),
                       registration("P-2", birth="1900-01-01"),
                       entry("P-3", submitted_at="1990-01-01T00:00:00+01:00"))
    assert "Entrée P-1 : « dates[0] » : le jour 31/12/9999 est hors de la période admise " \
           "(du 11/03/2024 au 11/03/2028)." in problems
    assert any(p.startswith("Entrée P-2 : « family.children[0].birth_date » : la date de naissance 01/01/1900")
               for p in problems)
    assert "Entrée P-3 : « submitted_at » trop ancien (01/01/1990, au plus 2 ans)." in problems


def test_registration_email_phone_and_postcode_checked_like_the_form(office):
    problems = refused(office, registration(email="pas-un-courriel", phone="12", postcode="ABCDE"))
    assert problems == [
        "Entrée P-9 : « family.address.postcode » : « ABCDE » n'est pas un code postal français "
        "(5 chiffres, exemple : 57175).",
        "Entrée P-9 : « family.guardians[0].email » : « pas-un-courriel » n'est pas une adresse e-mail "
        "valide (exemple : prenom.nom@exemple.fr).",
        "Entrée P-9 : « family.guardians[0].phone » : « 12 » n'est pas un numéro de téléphone valide "
        "(10 chiffres, exemple : 03 87 67 17 79, ou +352… pour l'étranger).",
    ]


def test_family_change_values_are_checked_like_the_form(office):
    problems = refused(office, entry("P-1", kind="family_change", changes={
        "guardians[0].email": "pas-un-courriel", "address.postcode": "ABCDE", "phone": "+33 1"}))
    assert problems == [
        "Entrée P-1 : « guardians[0].email » : « pas-un-courriel » n'est pas une adresse e-mail valide "
        "(exemple : prenom.nom@exemple.fr).",
        "Entrée P-1 : « address.postcode » : « ABCDE » n'est pas un code postal français (5 chiffres, "
        "exemple : 57175).",
        "Entrée P-1 : « phone » : « +33 1 » n'est pas un numéro de téléphone valide (10 chiffres, "
        "exemple : 03 87 67 17 79, ou +352… pour l'étranger).",
    ]


def test_good_values_are_stored_as_the_form_writes_them(office):
    intake.import_feed(office, feed(entry("P-1", kind="family_change", changes={
        "guardians[1].phone": "+33 6 99 88 77 66", "guardians[1].email": "Marc.K@Example.ORG"})))
    item = next(i for i in queue.pending_items(office) if i.kind == "family_change")
    queue.accept_family_change(office, item.id, ["guardians[1].phone", "guardians[1].email"])
    with office.read() as s:
        marc = s.execute(select(Guardian).where(Guardian.first_name == "Marc")).scalar_one()
        assert (marc.phone, marc.email) == ("06 99 88 77 66", "Marc.K@example.org")


def test_a_change_targets_its_child_by_ref_even_after_a_sibling_is_added(office):
    intake.import_feed(office, feed(
        entry("P-1", kind="family_change", changes={"children[E-0107].class": "CE1"}),
        entry("P-2", kind="family_change", changes={"children[0].first_name": "Julien"}),
        entry("P-3", kind="family_change", changes={"address.city": "Rombas"})))
    # A younger sibling, born before Jules, now sorts first among the family's children.
    with office.unit_of_work() as s:
        family = s.execute(select(Family).where(Family.ref == "F-0042")).scalar_one()
        s.add(Child(family_id=family.id, ref="E-0001", first_name="Aîné", last_name="Keller",
                    birth_date=date(2017, 1, 1)))
    items = {i.ref: i for i in queue.pending_items(office) if i.kind == "family_change"}
    view = queue.family_change_view(office, items["P-2"].id)
    assert [c.label for c in view] == ["Prénom de Jules Keller"]
    queue.accept_family_change(office, items["P-1"].id, ["children[E-0107].class"])
    queue.accept_family_change(office, items["P-2"].id, ["children[0].first_name"])
    with office.read() as s:
        names = {c.ref: (c.first_name, c.class_name) for c in s.execute(select(Child)).scalars()}
    assert names["E-0107"] == ("Julien", "CE1") and names["E-0001"] == ("Aîné", "")


def test_a_change_for_an_unknown_child_ref_is_refused(office):
    assert refused(office, entry("P-1", kind="family_change", changes={"children[E-9999].class": "CP"})) == [
        "Entrée P-1 : « children[E-9999].class » : la famille F-0042 n'a pas d'enfant E-9999."
    ]
