"""Ma famille's change requests are the feed's family changes: the same checks, pinned to the
member the family was looking at, and shown to the family in the desk's own words."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from gandrange_desk.models import Child, Family, Request
from gandrange_desk.services import queue

from .conftest import post


def _section_of(page: str, title: str) -> str:
    sections = re.findall(r'href="/famille/(enfant-\d+)"', page)
    names = re.findall(r"Enfant : ([^<]+)<", page)
    return dict(zip(names, sections))[title]


def test_a_child_change_lands_on_that_child_after_the_order_changes(desk, portal_base, martin):
    key = _section_of(martin.get("/famille").text, "Hugo Martin")
    index = int(key.split("-")[1]) - 1
    r = post(martin, f"/famille/{key}", {f"children[{index}].class": "CE1"})
    assert r.status_code == 303, r.text
    with desk.unit_of_work() as s:  # before the desk decides, Hugo's file moves in the order
        family = s.get(Family, portal_base["martin"])
        for child in family.children:
            child.birth_date = date(2016, 1, 1) if child.first_name == "Hugo" else date(2019, 1, 1)
        rid = s.execute(select(Request.id).where(Request.kind == "family_change")).scalar_one()
    queue.accept_family_change(desk, rid, [f"children[{index}].class"])
    with desk.read() as s:
        classes = dict(s.execute(select(Child.first_name, Child.class_name)
                                 .where(Child.family_id == portal_base["martin"])).all())
    assert classes["Hugo"] == "CE1"
    assert classes["Léa"] == ""  # as before


def test_a_change_is_checked_like_the_feed_and_nothing_is_asked(desk, portal_base, martin):
    r = post(martin, "/famille/foyer", {"address.street": "12 rue de la Gare", "address.postcode": "ABCDE",
                                        "address.city": "Gandrange", "name": "Martin", "phone": "pas un numéro"})
    assert r.status_code == 400
    assert "Adresse — code postal : " in r.text and "Téléphone du foyer : " in r.text
    with desk.read() as s:
        assert s.execute(select(Request.id).where(Request.kind == "family_change")).first() is None
