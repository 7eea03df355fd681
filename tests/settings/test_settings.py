"""Settings import / export (DESIGN §7): what lands in the database, round-trips, re-imports."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from gandrange_desk.cli import main
from gandrange_desk.errors import PermissionDenied
from gandrange_desk.models import (
    Activity, AuditEntry, Closure, School, SmtpSettings, Structure, Tariff, TariffBracket, Unit,
)
from gandrange_desk.services.settings.service import export_settings, import_settings
from tests.builders import load_example_settings, make_family

# Commands act as an authenticated desk user (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cli_user")


def snapshot(desk) -> dict:
    """Every settings value, without ids, versions or stamps: what a round-trip must preserve."""
    with desk.read() as s:
        st = s.execute(select(Structure)).scalar_one()
        smtp = s.execute(select(SmtpSettings)).scalars().all()
        out = {
            "structure": {c.name: getattr(st, c.name) for c in Structure.__table__.columns
                          if c.name not in ("id", "version", "updated_at", "updated_by")},
            "schools": [(x.name, x.position) for x in s.execute(select(School).order_by(School.position))
                        .scalars()],
            "closures": [(c.first_day, c.last_day, c.label) for c in
                         s.execute(select(Closure).order_by(Closure.first_day)).scalars()],
            "smtp": [(m.host, m.port, m.security, m.user, m.sender, m.reply_to) for m in smtp],
            "activities": [],
        }
        for a in s.execute(select(Activity).order_by(Activity.position)).scalars():
            units = []
            for u in a.units:
                tariffs = [(t.valid_from, t.pai_price_cents, t.late_surcharge_cents,
                            [(b.sibling_rank, b.position, b.qf_max, b.price_cents) for b in t.brackets])
                           for t in u.tariffs]
                units.append((u.name, u.capacity, u.meal, u.position, tariffs))
            out["activities"].append((a.code, a.name, a.opens, a.weekdays, a.booking_deadline_days,
                                      a.booking_deadline_time, a.cancellation_deadline_days,
                                      a.cancellation_deadline_time, units))
        return out


def test_import_writes_the_example(desk, settings_path):
    summary = import_settings(desk, settings_path.read_text(encoding="utf-8"))
    assert summary.changed
    with desk.read() as s:
        st = s.execute(select(Structure)).scalar_one()
        assert st.name == "Service Enfance-Jeunesse — Commune de Gandrange"
        assert (st.school_zone, st.holiday_subdivision) == ("B", "57")
        assert [x.name for x in s.execute(select(School).order_by(School.position)).scalars()] == [
            "École maternelle", "École élémentaire"]
        closure = s.execute(select(Closure)).scalar_one()
        assert (closure.first_day, closure.last_day) == (date(2026, 12, 24), date(2026, 12, 24))
        smtp = s.execute(select(SmtpSettings)).scalar_one()
        assert (smtp.host, smtp.port, smtp.security, smtp.user) == (
            "smtp.mairie-gandrange.example", 587, "starttls", "periscolaire")
        peri = s.execute(select(Activity).where(Activity.code == "PERISCOLAIRE")).scalar_one()
        assert peri.weekdays == "mon,tue,thu,fri"
        assert (peri.booking_deadline_days, peri.booking_deadline_time) == (2, "10:00")
        assert [u.name for u in peri.units] == ["Accueil matin", "Repas", "Accueil soir"]
        repas = peri.units[1]
        assert repas.meal and repas.capacity == 110
        [tariff] = repas.tariffs
        # No valid_from in the file: the prices apply from the import date (the desk's clock).
        assert tariff.valid_from == date(2026, 11, 26)
        assert [(b.qf_max, b.price_cents) for b in tariff.brackets] == [(700, 330), (1200, 420), (None, 490)]
        assert s.execute(select(func.count(Activity.id))).scalar_one() == 3
        assert s.execute(select(func.count(Unit.id))).scalar_one() == 7


def test_prices_are_exact_cents(desk, settings_path):
    text = settings_path.read_text(encoding="utf-8").replace('price = "3.30"', 'price = "0.29"').replace(
        'price = "4.20"', "price = 4.15").replace('price = "4.90"', "price = 5")
    import_settings(desk, text)
    with desk.read() as s:
        prices = s.execute(select(TariffBracket.price_cents).join(Tariff).join(Unit)
                           .where(Unit.name == "Repas").order_by(TariffBracket.position)).scalars().all()
    assert prices == [29, 415, 500]


def test_round_trip_is_identical(desk, settings_path, tmp_path):
    text = settings_path.read_text(encoding="utf-8")
    # The optional keys too, so their export is proven.
    text = text.replace('holiday_subdivision = "57"', 'holiday_subdivision = "57"\nissuer_name = "Jean Dupont"\n'
                        'issuer_role = "Maire"\nsepa_ics = "FR12ZZZ123456"\ncollection_day = 5\n'
                        'appeal_text = "Recours :\\n« tribunal » administratif"')
    text = text.replace('closures = [["2026-12-24", "2026-12-24"]]',
                        'closures = [["2026-12-24", "2026-12-24"], ["2027-05-07", "2027-05-08", "Pont"]]')
    text = text.replace('  name = "Repas"\n', '  name = "Repas"\n  pai_price = "1.20"\n  late_surcharge = "0.50"\n'
                        '  sibling_prices = [{ rank = 2, prices = [{ qf_max = 700, price = "3.00" }, '
                        '{ price = "4.00" }] }]\n  valid_from = 2026-09-01\n')
    import_settings(desk, text)
    first = snapshot(desk)
    exported = export_settings(desk)
    import_settings(desk, exported)
    assert snapshot(desk) == first
    assert export_settings(desk) == exported
    assert 'appeal_text = "Recours :\\n« tribunal » administratif"' in exported
    assert '["2027-05-07", "2027-05-08", "Pont"]' in exported
    assert 'pai_price = "1.20"' in exported and 'late_surcharge = "0.50"' in exported
    assert "password" not in exported.replace("The SMTP password is never here", "")


def test_export_through_the_command(desk, db_url, settings_path, tmp_path, capsys):
    assert main(["--db", db_url, "settings", "import", str(settings_path)]) == 0
    out = tmp_path / "out.toml"
    assert main(["--db", db_url, "settings", "export", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["--db", db_url, "--json", "settings", "import", str(out)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result == {"created": [], "updated": [], "deleted": []}
    assert main(["--db", db_url, "settings", "export"]) == 0
    assert capsys.readouterr().out == out.read_text(encoding="utf-8")


def test_export_before_any_import_says_so(desk, db_url, capsys):
    assert main(["--db", db_url, "settings", "export"]) == 1
    assert "importez d'abord" in capsys.readouterr().err


def test_reimport_updates_in_place_and_keeps_price_history(desk, clock, settings_path):
    text = settings_path.read_text(encoding="utf-8")
    import_settings(desk, text)
    with desk.read() as s:
        ids = dict(s.execute(select(Activity.code, Activity.id)).all())
        unit_ids = dict(s.execute(select(Unit.name, Unit.id)).all())
    clock.set(2027, 1, 4, 8, 30)
    changed = (text.replace('price = "4.20"', 'price = "4.35"').replace("capacity = 110", "capacity = 120")
               .replace('name = "MERCREDI"', 'name = "Mercredis récréatifs"'))
    summary = import_settings(desk, changed)
    assert "tarif PERISCOLAIRE / Repas à partir du 04/01/2027" in summary.updated
    with desk.read() as s:
        assert dict(s.execute(select(Activity.code, Activity.id)).all()) == ids
        assert dict(s.execute(select(Unit.name, Unit.id)).all()) == unit_ids
        repas = s.get(Unit, unit_ids["Repas"])
        assert repas.capacity == 120
        history = [(t.valid_from, [b.price_cents for b in t.brackets]) for t in repas.tariffs]
        assert history == [(date(2026, 11, 26), [330, 420, 490]), (date(2027, 1, 4), [330, 435, 490])]
        # Units whose prices did not change keep their single tariff.
        assert len(s.get(Unit, unit_ids["Accueil soir"]).tariffs) == 1
        assert s.get(Activity, ids["MERCREDI"]).name == "Mercredis récréatifs"
        audits = s.execute(select(AuditEntry).where(AuditEntry.action == "settings.tariff.create",
                                                    AuditEntry.entity_id.in_([t.id for t in repas.tariffs]))
                           .order_by(AuditEntry.id)).scalars().all()
        last = audits[-1]
        assert last.user_login == "systeme"
        assert json.loads(last.before)["prices"][1] == {"qf_max": 1200, "price": "4.20"}
        assert json.loads(last.after)["prices"][1] == {"qf_max": 1200, "price": "4.35"}
        renamed = s.execute(select(AuditEntry).where(AuditEntry.action == "settings.activity.update")).scalar_one()
        assert json.loads(renamed.before) == {"name": "MERCREDI"}
        assert json.loads(renamed.after) == {"name": "Mercredis récréatifs"}


def test_reimport_removes_unused_unit_but_not_a_school_in_use(desk, settings_path):
    text = settings_path.read_text(encoding="utf-8")
    load_example_settings(desk)
    without_matin = text.replace('''  [[activity.unit]]
  name = "Matin"
  capacity = 20
  prices = [{ qf_max = 700, price = "3.50" }, { price = "5.50" }]
''', "")
    summary = import_settings(desk, without_matin)
    assert summary.deleted == ["unité MERCREDI / Matin"]
    make_family(desk, "Weber", children=[{"first_name": "Noé", "school": "École maternelle",
                                          "class_name": "MS"}])
    with pytest.raises(Exception) as err:
        import_settings(desk, without_matin.replace('schools = ["École maternelle", "École élémentaire"]',
                                                    'schools = ["École élémentaire"]'))
    assert "l'école « École maternelle » manque dans le fichier, mais des enfants y sont inscrits" in str(err.value)
    with desk.read() as s:
        assert s.execute(select(func.count(School.id))).scalar_one() == 2


def test_import_needs_a_supervisor(agent_desk, responsable_desk, settings_path):
    text = settings_path.read_text(encoding="utf-8")
    with pytest.raises(PermissionDenied) as err:
        import_settings(agent_desk, text)
    assert "Importer les paramètres" in str(err.value)
    with agent_desk.read() as s:
        assert s.execute(select(func.count(Structure.id))).scalar_one() == 0
    import_settings(responsable_desk, text)
    with responsable_desk.read() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "settings.import")).scalar_one()
        assert entry.user_login == "mresp"


def test_builders_make_a_family(desk):
    load_example_settings(desk)
    family = make_family(desk, "Muller", children=[{"first_name": "Éloïse"}, {"first_name": "Hugo",
                                                                             "class_name": "CP"}])
    assert [c.first_name for c in family.children] == ["Éloïse", "Hugo"]
    assert "eloise" in family.search_text and "muller" in family.search_text
    with desk.read() as s:
        tariff = s.execute(select(Tariff)).scalars().first()
        assert tariff.valid_from == date(2025, 1, 1)


def test_window_entry_points(desk, settings_path):
    from gandrange_desk.services.settings import service

    summary = service.import_file(desk, settings_path)
    assert summary.changed
    assert service.export_text(desk) == export_settings(desk)


def test_builders_make_a_booking(desk):
    from sqlalchemy import select as sel

    from gandrange_desk.models import Booking, Request
    from tests.builders import make_booking, unit_id

    load_example_settings(desk)
    family = make_family(desk, "Keller")
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    make_booking(desk, family.children[0].id, repas, date(2026, 12, 3), "AF", late=True)
    make_booking(desk, family.children[0].id, repas, date(2026, 12, 4), "DA")
    with desk.read() as s:
        states = s.execute(sel(Booking.day, Booking.state).order_by(Booking.day)).all()
        history = s.execute(sel(Request.kind, Request.status, Request.to_state).order_by(Request.id)).all()
    assert states == [(date(2026, 12, 3), "AF"), (date(2026, 12, 4), "DA")]
    assert history == [("booking", "accepted", "R"), ("cancellation", "accepted", "AF"),
                       ("booking", "accepted", "R"), ("cancellation", "pending", "DA")]
