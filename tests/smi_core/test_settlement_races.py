"""Never twice, even at the same moment (PostgreSQL): several preparers of the same cycle
make one invoice, and the same 820 applied by several workers at once pays once. The
database constraints hold it; the services return the one that won."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from smi_core.models import PaymentApplication, Remittance, SettlementInvoice
from smi_core.services.audit import Actor
from smi_core.services.settlement import settlement_approve, settlement_issue, settlement_prepare
from smi_core.services.settlement_payments import RemittanceIn, RemittanceLineIn, remittance_apply
from tests.smi_core.test_settlement import TODAY, world  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)
COPIES = 4


def _at_once(job) -> tuple[list, list[BaseException]]:
    """Run ``job`` in COPIES threads (each its own connection), released together."""
    barrier = threading.Barrier(COPIES)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=30)
            results.append(job())
        except BaseException as exc:  # reported to the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(COPIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return results, errors


def test_preparing_one_cycle_at_once_makes_one_invoice(world, require_postgres):  # noqa: F811
    agreement_id = world["agreement"].pk

    results, errors = _at_once(
        lambda: settlement_prepare(agreement_id=agreement_id, day=date(2027, 2, 15), today=TODAY)
    )

    assert errors == []
    assert SettlementInvoice.objects.count() == 1
    invoice = SettlementInvoice.objects.get()
    assert {r[0].pk for r in results} == {invoice.pk}
    assert [created for _, created in results].count(True) == 1
    assert invoice.lines.count() == 3 and invoice.total == Decimal("428.25")


def test_one_820_applied_at_once_pays_once(world, require_postgres):  # noqa: F811
    invoice, _ = settlement_prepare(
        agreement_id=world["agreement"].pk,
        day=date(2027, 2, 15),
        user=world["preparer"],
        today=TODAY,
    )
    settlement_approve(invoice_id=invoice.pk, user=world["approver"])
    settlement_issue(invoice_id=invoice.pk, user=world["approver"], today=TODAY)
    advice = RemittanceIn(
        payer=world["buyer"].party,
        payee=world["supplier"].party,
        trace_number="RACE-1",
        payment_date=date(2027, 4, 5),
        amount=Decimal("300.00"),
        currency="USD",
        lines=(RemittanceLineIn(reference=invoice.number, paid=Decimal("300.00")),),
    )

    results, errors = _at_once(
        lambda: remittance_apply(advice=advice, actor=Actor.partner("north"))
    )

    assert errors == []
    assert Remittance.objects.count() == 1 and PaymentApplication.objects.count() == 1
    assert [created for _, created in results].count(True) == 1
    invoice.refresh_from_db()
    assert (invoice.paid, invoice.status) == (Decimal("300.00"), "partially_paid")


def test_two_820s_at_once_on_one_invoice_both_count(world, require_postgres):  # noqa: F811
    """Different payments (trace numbers) of the same invoice applied by workers at the
    same moment: each locks the invoice before adding to what is paid, so none is lost."""
    invoice, _ = settlement_prepare(
        agreement_id=world["agreement"].pk,
        day=date(2027, 2, 15),
        user=world["preparer"],
        today=TODAY,
    )
    settlement_approve(invoice_id=invoice.pk, user=world["approver"])
    settlement_issue(invoice_id=invoice.pk, user=world["approver"], today=TODAY)
    traces = iter(f"PART-{n}" for n in range(COPIES))
    lock = threading.Lock()

    def pay():
        with lock:
            trace = next(traces)
        return remittance_apply(
            advice=RemittanceIn(
                payer=world["buyer"].party,
                payee=world["supplier"].party,
                trace_number=trace,
                payment_date=date(2027, 4, 5),
                amount=Decimal("100.00"),
                currency="USD",
                lines=(RemittanceLineIn(reference=invoice.number, paid=Decimal("100.00")),),
            ),
            actor=Actor.partner("north"),
        )

    results, errors = _at_once(pay)

    assert errors == []
    assert [created for _, created in results] == [True] * COPIES
    invoice.refresh_from_db()
    assert (invoice.paid, invoice.status) == (Decimal("400.00"), "partially_paid")
    assert invoice.status_changes.filter(to_status="partially_paid").count() == 1


def test_820s_naming_two_invoices_in_opposite_orders_at_once_all_apply(
    world,  # noqa: F811
    require_postgres,
):
    """One 820 pays January then February, another February then January, at the same
    moment: the invoices are locked in one order up front, so neither waits for the other
    in a deadlock the database would break by failing one of them."""
    invoices = []
    for day in (date(2027, 1, 15), date(2027, 2, 15)):
        invoice, _ = settlement_prepare(
            agreement_id=world["agreement"].pk, day=day, user=world["preparer"], today=TODAY
        )
        settlement_approve(invoice_id=invoice.pk, user=world["approver"])
        settlement_issue(invoice_id=invoice.pk, user=world["approver"], today=TODAY)
        invoices.append(invoice)
    numbers = [invoice.number for invoice in invoices]
    orders = iter(enumerate([numbers, numbers[::-1]] * (COPIES // 2)))
    lock = threading.Lock()

    def pay():
        with lock:
            n, order = next(orders)
        trace = f"CROSS-{n}"
        return remittance_apply(
            advice=RemittanceIn(
                payer=world["buyer"].party,
                payee=world["supplier"].party,
                trace_number=trace,
                payment_date=date(2027, 4, 5),
                amount=Decimal("20.00"),
                currency="USD",
                lines=tuple(
                    RemittanceLineIn(reference=number, paid=Decimal("10.00")) for number in order
                ),
            ),
            actor=Actor.partner("north"),
        )

    results, errors = _at_once(pay)

    assert errors == []
    assert [created for _, created in results] == [True] * COPIES
    assert Remittance.objects.count() == COPIES
    for invoice in invoices:
        invoice.refresh_from_db()
        assert invoice.paid == Decimal("10.00") * COPIES
