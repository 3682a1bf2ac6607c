"""The second world (``world2``) with its consumption billed and partly paid, for the
settlement questions: both agreements consigned and billed weekly, each week's invoice
issued two days after the week, and 820 remittances applied through the real services.

Kestrel Foods (GBP, 21 days): week 1 (issued 2026-11-03, due 11-24) paid in part on
11-20; week 2 paid in full on 11-24; weeks 3 and 4 open. Lumen Markt (EUR, 14 days): week
1 (issued 11-03, due 11-17) paid in full, late, on 11-20 at another EUR/GBP rate (realised
FX); week 2 (due 11-24) open; week 3 paid in part on 11-24; week 4 open. At 2026-11-25 the
overdue amounts are Kestrel's week-1 remainder and Lumen's week 2.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from smi_core.models import SettlementInvoice, SupplyAgreement
from smi_core.services.audit import Actor
from smi_core.services.fx import fx_load
from smi_core.services.settlement import settlement_approve, settlement_issue, settlement_prepare
from smi_core.services.settlement_payments import (
    RemittanceIn,
    RemittanceLineIn,
    remittance_apply,
)
from tests.orders import person
from tests.reporting_assistant.world2 import WEEKS, build_world2

D = Decimal
TODAY = date(2026, 11, 25)
RATES = """currency,quote,date,rate,source
EUR,GBP,2026-11-03,0.8650,settled
EUR,GBP,2026-11-24,0.8900,settled
GBP,USD,2026-11-24,1.3100,settled
"""
# (agreement, week index, payment date, share of the invoice paid)
PAYMENTS = (
    ("nw-kestrel", 0, date(2026, 11, 20), D("0.6")),
    ("nw-kestrel", 1, date(2026, 11, 24), D(1)),
    ("nw-lumen", 0, date(2026, 11, 20), D(1)),
    ("nw-lumen", 2, date(2026, 11, 24), D("0.5")),
)


def build_settled_world(settings, tmp_path) -> dict:
    world = build_world2(settings, tmp_path)
    fx_load(text=RATES, actor=Actor.system("test"))
    for code, terms in (("nw-kestrel", 21), ("nw-lumen", 14)):
        SupplyAgreement.objects.filter(code=code).update(
            ownership=SupplyAgreement.Ownership.CONSIGNMENT,
            billing_cycle=SupplyAgreement.BillingCycle.WEEKLY,
            payment_terms_days=terms,
        )
    approver = person("fin", "finance")
    invoices: dict[tuple[str, int], SettlementInvoice] = {}
    for code in ("nw-kestrel", "nw-lumen"):
        agreement = SupplyAgreement.objects.get(code=code)
        for n, (start, _) in enumerate(WEEKS):
            first = date(int(start[:4]), int(start[4:6]), int(start[6:]))
            invoice, _ = settlement_prepare(
                agreement_id=agreement.pk, day=first, actor=Actor.system("test"), today=TODAY
            )
            settlement_approve(invoice_id=invoice.pk, user=approver)
            invoices[code, n] = settlement_issue(
                invoice_id=invoice.pk, user=approver, today=first + timedelta(days=8)
            )
    for trace, (code, week, day, share) in enumerate(PAYMENTS, start=1):
        invoice = invoices[code, week]
        paid = (invoice.total * share).quantize(D("0.01"))
        remittance_apply(
            advice=RemittanceIn(
                payer=invoice.buyer,
                payee=invoice.supplier,
                trace_number=f"SETTLED{trace}",
                payment_date=day,
                amount=paid,
                currency=invoice.currency,
                method="ACH",
                lines=(RemittanceLineIn(reference=invoice.number, paid=paid),),
            ),
            actor=Actor.partner(invoice.buyer.code),
        )
    return world | {"invoices": invoices}
