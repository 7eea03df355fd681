"""Issue 11: what a mandate holder or the structure's name may hold never reaches the bank's file
outside the SEPA Latin character set, and a control character no longer stops the export."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

from sqlalchemy import update

from gandrange_desk.models import Mandate, Structure
from gandrange_desk.services.billing import sepa
from gandrange_desk.services.validation import sepa_latin
from tests.billing.test_sepa import NS, month  # noqa: F401 (the fixture)


def test_sepa_latin_transliterates_then_keeps_only_the_allowed_set():
    assert sepa_latin("Jérôme Œuvray-Müßig & fils", 70) == "Jerome OEuvray-Mussig + fils"
    assert sepa_latin("<Nm>a;b@c`d\r\ne\x00f</Nm>", 70) == "Nm a b c d e f /Nm"
    assert sepa_latin("\x07\x1b", 70, "Muller") == "Muller"
    assert len(sepa_latin("x" * 200, 70)) == 70


def test_a_control_character_in_a_holder_no_longer_crashes_the_export(desk, month):  # noqa: F811
    with desk.unit_of_work() as s:
        s.execute(update(Mandate).values(holder="M. Müller\x0b & <Cie>;\r\n`rm` @home"))
        s.execute(update(Structure).values(name="Service Enfance–Jeunesse & Cie"))
    result = sepa.export_month(desk, date(2026, 10, 1), final=False, notify=False)
    root = ET.fromstring(result.xml)
    names = [n.text for n in root.iterfind(".//p:Nm", NS)]
    assert "M. Muller + Cie rm home" in names
    assert "Service Enfance-Jeunesse + Cie" in names
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-?:().,'+ ")
    assert all(set(n) <= allowed for n in names)
