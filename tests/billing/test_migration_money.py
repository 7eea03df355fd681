"""Migration 0006 on a database that already has issued invoices and SEPA files: what they billed
per day and which transactions they carried are filled in, so nothing is regularised twice."""

from __future__ import annotations

from datetime import date

from alembic import command
from sqlalchemy import text

from gandrange_desk.models import BilledDay, SepaDebit
from gandrange_desk.services.system import schema

XML = """<?xml version="1.0" encoding="utf-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"><CstmrDrctDbtInitn>
<GrpHdr><MsgId>MSG-1</MsgId></GrpHdr>
<PmtInf><DrctDbtTxInf><PmtId><EndToEndId>2026-000001</EndToEndId></PmtId><InstdAmt Ccy="EUR">9.40</InstdAmt>
<DrctDbtTx><MndtRltdInf><MndtId>RUM-1</MndtId></MndtRltdInf></DrctDbtTx>
<RmtInf><Ustrd>Periscolaire octobre 2026 factures 2026-000001</Ustrd></RmtInf></DrctDbtTxInf></PmtInf>
</CstmrDrctDbtInitn></Document>"""


def test_upgrade_fills_billed_days_and_sepa_debits(engine):
    with engine.begin() as conn:
        command.downgrade(schema.alembic_config(conn), "0005")
    with engine.begin() as conn:
        run = lambda sql, **kw: conn.execute(text(sql), kw)  # noqa: E731
        run("INSERT INTO activity (id, code, name, opens, weekdays, booking_deadline_days, booking_deadline_time, "
            "cancellation_deadline_days, cancellation_deadline_time, position, version) "
            "VALUES (1, 'P', 'P', 'school_days', 'mon', 2, '10:00', 2, '10:00', 0, 1)")
        run("INSERT INTO unit (id, activity_id, name, meal, position) VALUES (1, 1, 'Repas', true, 0)")
        run("INSERT INTO family (id, ref, name, street, postcode, city, phone, notes, payment_mode, portal_state, "
            "acknowledgement_returned, archived, search_text, version) VALUES (1, 'F-1', 'Muller', '', '', '', '', "
            "'', 'prelevement', 'active', true, false, '', 1)")
        run("INSERT INTO child (id, family_id, ref, first_name, last_name, birth_date, class_name, health_notes, "
            "allergies, pai, doctor, archived, version) VALUES (1, 1, 'E-1', 'Léa', 'Muller', '2018-01-01', '', '', "
            "'', false, '', false, 1)")
        run("INSERT INTO booking (child_id, unit_id, day, state, late) VALUES (1, 1, '2026-10-06', 'AF', false)")
        for iid, number, month, issued in ((1, "2026-000001", "2026-10-01", "2026-11-02 09:00:00+00:00"),
                                           (2, "2026-000002", "2026-11-01", "2026-12-01 09:00:00+00:00")):
            run("INSERT INTO invoice (id, family_id, month, number, status, issued_at, total_cents, payment_mode, "
                "anomalies, billed_name, billed_address, version) VALUES (:id, 1, :month, :number, 'issued', "
                ":issued, 0, 'prelevement', '', '', '', 1)", id=iid, month=month, number=number, issued=issued)
        lines = [(1, "normal", "Repas", "2026-10-05,2026-10-06", 2, 420, 0),
                 (1, "surcharge", "Majoration", "2026-10-06", 1, 100, 1),
                 (2, "regularisation", "Régularisation octobre 2026", "2026-10-05", -1, 420, 0)]
        for invoice_id, kind, label, dates, qty, price, position in lines:
            run("INSERT INTO invoice_line (invoice_id, child_id, unit_id, kind, label, child_name, dates, quantity, "
                "unit_price_cents, amount_cents, position) VALUES (:i, 1, 1, :k, :l, 'Léa Muller', :d, :q, :p, :a, :pos)",
                i=invoice_id, k=kind, l=label, d=dates, q=qty, p=price, a=qty * price, pos=position)
        run("INSERT INTO mandate (family_id, rum, iban, bic, holder, signed_on, sequence_type, state, version) "
            "VALUES (1, 'RUM-1', 'FR7630006000011234567890189', '', '', '2025-09-01', 'RCUR', 'active', 1)")
        run("INSERT INTO sepa_export (id, month, collection_date, created_at, created_by, total_cents, count, xml, "
            "final) VALUES (1, '2026-10-01', '2026-11-16', '2026-11-03 09:00:00+00:00', 'x', 940, 1, :xml, true)",
            xml=XML.encode())
        run("INSERT INTO payment (family_id, mode, received_on, amount_cents, reference) "
            "VALUES (1, 'prelevement', '2026-11-16', 940, 'SEPA MSG-1 RUM-1')")
    schema.upgrade(engine)
    from sqlalchemy.orm import Session

    with Session(engine) as s:
        rows = [(r.invoice_id, r.day, r.state, r.price_cents, r.surcharge_cents, r.current)
                for r in s.query(BilledDay).order_by(BilledDay.id)]
        debit = s.query(SepaDebit).one()
    assert rows == [
        (1, date(2026, 10, 5), "R", 420, 0, False),  # regularised away by invoice 2
        (1, date(2026, 10, 6), "AF", 420, 100, True),
        (2, date(2026, 10, 5), "", 0, 0, True),
    ]
    assert (debit.end_to_end, debit.amount_cents, debit.invoice_ids, debit.status) == ("2026-000001", 940, "1",
                                                                                       "collected")
    assert debit.payment_id is not None
