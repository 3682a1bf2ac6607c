"""Consignment settlement from the command line, through the same services as the admin and
the API:

    settle prepare --agreement CODE --day 2027-02-15 [--as USER]
    settle prepare --due [--as USER]        every consignment agreement's ended cycles
    settle approve ID --as USER             SoD: not whoever prepared it (SOD-06)
    settle issue ID --as USER               sends the 810 (none under ERS)
    settle pay --invoice NUMBER --trace T --date D --amount A [--as USER]
                                            a payment that came without an 820 (a cheque)
    settle list [--status issued] [--json]
    settle show ID [--json]
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date

from smi_core.cli_output import console, rows_print
from smi_core.exceptions import ApplicationError
from smi_core.management.commands._actor import user_named
from smi_core.models import SettlementInvoice, SupplyAgreement
from smi_core.selectors.finance.base import FinanceScope
from smi_core.selectors.finance.settlement import settlement_as_dict, settlements_list
from smi_core.services.audit import Actor
from smi_core.services.settlement import (
    NothingToSettle,
    settlement_approve,
    settlement_cycles_due,
    settlement_issue,
    settlement_prepare,
)
from smi_core.services.sod import SodViolation
from smi_core.templatetags.smi_format import money, quantity


class Command(BaseCommand):
    help = "Prepare, approve, issue and list consignment settlements."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        prepare = sub.add_parser("prepare", help="propose the invoice of a billing cycle")
        prepare.add_argument("--agreement", help="agreement code")
        prepare.add_argument("--day", help="any day of the cycle, YYYY-MM-DD")
        prepare.add_argument(
            "--due", action="store_true", help="every consignment agreement's ended cycles"
        )
        prepare.add_argument("--as", dest="username", help="the preparer (SoD keys on it)")
        for name in ("approve", "issue"):
            action = sub.add_parser(name, help=f"{name} a settlement")
            action.add_argument("id", type=int)
            action.add_argument("--as", dest="username", required=True)
        pay = sub.add_parser("pay", help="record a payment that came without an 820")
        pay.add_argument("--invoice", required=True, help="the settlement's number")
        pay.add_argument("--trace", required=True, help="the payment's reference (cheque no.)")
        pay.add_argument("--date", required=True, help="payment date, YYYY-MM-DD")
        pay.add_argument("--amount", required=True, help="in the settlement's currency")
        pay.add_argument("--method", default="CHK", help="ACH, CHK, FWT ... (default CHK)")
        pay.add_argument("--as", dest="username")
        listing = sub.add_parser("list", help="settlements, newest cycle first")
        listing.add_argument("--status", choices=SettlementInvoice.Status.values)
        listing.add_argument("--buyer")
        listing.add_argument("--json", action="store_true")
        show = sub.add_parser("show", help="one settlement with its lines and payments")
        show.add_argument("id", type=int)
        show.add_argument("--json", action="store_true")

    def handle(self, *args, **o):
        try:
            getattr(self, f"_{o['action']}")(o)
        except SodViolation as exc:
            raise CommandError(
                f"denied ({', '.join(exc.rule_codes)}): {exc.message}", returncode=3
            ) from exc
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc

    def _actor(self, o):
        if not o.get("username"):
            return None, Actor.system("settle")
        user = user_named(o["username"])
        return user, Actor("user", user.get_username(), user_agent="cli")

    def _prepare(self, o):
        user, actor = self._actor(o)
        if o["due"]:
            today = timezone.localdate()
            agreements = SupplyAgreement.objects.filter(
                ownership=SupplyAgreement.Ownership.CONSIGNMENT
            ).order_by("code")
            for agreement in agreements:
                for start, end in settlement_cycles_due(agreement=agreement, today=today):
                    try:
                        invoice, created = settlement_prepare(
                            agreement_id=agreement.pk, day=start, user=user, actor=actor
                        )
                    except NothingToSettle:
                        self.stdout.write(f"{agreement.code} {start} to {end}: nothing consumed")
                        continue
                    self._said(invoice, created)
            return
        if not o["agreement"] or not o["day"]:
            raise CommandError("give --agreement CODE and --day YYYY-MM-DD, or --due")
        agreement = SupplyAgreement.objects.filter(code=o["agreement"]).first()
        if agreement is None:
            raise CommandError(f"no agreement {o['agreement']!r}")
        day = parse_date(o["day"]) if _dateish(o["day"]) else None
        if day is None:
            raise CommandError(f"--day {o['day']!r} is not a date (YYYY-MM-DD)")
        invoice, created = settlement_prepare(
            agreement_id=agreement.pk, day=day, user=user, actor=actor
        )
        self._said(invoice, created)

    def _said(self, invoice: SettlementInvoice, created: bool) -> None:
        verb = "proposed" if created else f"already {invoice.status}"
        self.stdout.write(
            f"{invoice.number} {verb}: {invoice.buyer.code} owes "
            f"{money(invoice.total, invoice.currency)} for {invoice.cycle_start} to "
            f"{invoice.cycle_end} ({invoice.lines.count()} lines; id {invoice.pk})"
        )
        for note in invoice.notes:
            self.stdout.write(f"  note: {note}")

    def _approve(self, o):
        user, actor = self._actor(o)
        invoice = settlement_approve(invoice_id=o["id"], user=user, actor=actor)
        self.stdout.write(f"{invoice.number} approved by {user.get_username()}")

    def _issue(self, o):
        user, actor = self._actor(o)
        invoice = settlement_issue(invoice_id=o["id"], user=user, actor=actor)
        sent = (
            f"810 ISA13 {invoice.document.interchange_control_number} {invoice.document.status}"
            if invoice.document
            else "no 810 (evaluated receipt settlement)"
        )
        self.stdout.write(f"{invoice.number} issued, due {invoice.due_date}; {sent}")

    def _pay(self, o):
        from decimal import Decimal, InvalidOperation

        from smi_core.services.settlement_payments import (
            RemittanceIn,
            RemittanceLineIn,
            remittance_apply,
        )

        _, actor = self._actor(o)
        invoice = SettlementInvoice.objects.filter(number=o["invoice"]).first()
        if invoice is None:
            raise CommandError(f"no settlement {o['invoice']!r}")
        day = parse_date(o["date"]) if _dateish(o["date"]) else None
        if day is None:
            raise CommandError(f"--date {o['date']!r} is not a date (YYYY-MM-DD)")
        try:
            amount = Decimal(o["amount"])
        except InvalidOperation:
            raise CommandError(f"--amount {o['amount']!r} is not a number") from None
        if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
            raise CommandError(f"--amount {o['amount']} must be above 0, in cents at most")
        method = o["method"].upper()
        if not (1 <= len(method) <= 3 and method.isalnum()):
            raise CommandError(f"--method {o['method']!r} is a code of 1 to 3 letters (BPR04)")
        _, created = remittance_apply(
            advice=RemittanceIn(
                payer=invoice.buyer,
                payee=invoice.supplier,
                trace_number=o["trace"],
                payment_date=day,
                amount=amount,
                currency=invoice.currency,
                method=method,
                lines=(RemittanceLineIn(reference=invoice.number, paid=amount),),
            ),
            actor=actor,
        )
        invoice.refresh_from_db()
        if not created:
            self.stdout.write(f"payment {o['trace']} was recorded already; nothing changed")
            return
        self.stdout.write(
            f"{money(amount, invoice.currency)} from {invoice.buyer.code} on {day} applied to "
            f"{invoice.number}: {money(invoice.balance, invoice.currency)} open, "
            f"{invoice.get_status_display().lower()}"
        )

    def _list(self, o):
        rows = settlements_list(
            scope=FinanceScope.everything(), status=o["status"], buyer=o["buyer"]
        )
        if o["json"]:
            self.stdout.write(json.dumps([settlement_as_dict(r) for r in rows], indent=2))
            return
        rows_print(
            console(self.stdout),
            ["number", "kind", "buyer", "cycle", "total", "open", "status", "due"],
            (
                [
                    r.number,
                    r.get_kind_display(),
                    r.buyer.code,
                    f"{r.cycle_start} to {r.cycle_end}",
                    money(r.total, r.currency),
                    money(r.balance, r.currency),
                    r.get_status_display(),
                    str(r.due_date or "—"),
                ]
                for r in rows
            ),
        )

    def _show(self, o):
        invoice = settlements_list(scope=FinanceScope.everything()).filter(pk=o["id"]).first()
        if invoice is None:
            raise CommandError(f"no settlement #{o['id']}")
        data = settlement_as_dict(invoice, lines=True)
        if o["json"]:
            self.stdout.write(json.dumps(data, indent=2))
            return
        c = invoice.currency
        who = [
            f"{verb} by {user.username} on {at:%Y-%m-%d}" if user else f"{verb} by the system"
            for verb, user, at in (
                ("prepared", invoice.prepared_by, invoice.prepared_at),
                ("approved", invoice.approved_by, invoice.approved_at),
                ("issued", invoice.issued_by, invoice.issued_at),
            )
            if at
        ]
        facts = [
            ("buyer", f"{invoice.buyer.code} ({invoice.buyer.name})"),
            ("supplier", f"{invoice.supplier.code} ({invoice.supplier.name})"),
            ("agreement", f"{invoice.agreement.code}, {invoice.get_method_display()}"),
            ("cycle", f"{invoice.cycle_start} to {invoice.cycle_end}"),
            ("corrects", invoice.original.number if invoice.original_id else ""),
            ("reason", invoice.reason),
            (
                "invoice date",
                f"{invoice.invoice_date}, due {invoice.due_date}"
                if invoice.invoice_date
                else "not issued yet",
            ),
            (
                "amounts",
                f"total {money(invoice.total, c)}, paid {money(invoice.paid, c)}, "
                f"open {money(invoice.balance, c)}",
            ),
            ("history", "; ".join(who)),
            ("810", f"document #{invoice.document_id}" if invoice.document_id else ""),
        ]
        self.stdout.write(
            f"{invoice.get_kind_display()} {invoice.number} ({invoice.get_status_display()})"
        )
        for label, text in facts:
            if text:
                self.stdout.write(f"  {label:<13}{text}")
        for note in invoice.notes:
            self.stdout.write(f"  note: {note}")
        rows_print(
            console(self.stdout),
            ["line", "item", "location", "quantity", "price", "amount", "852 sets"],
            (
                [
                    str(ln["line"]),
                    ln["item"],
                    ln["location"],
                    f"{quantity(ln['quantity'])} {ln['unit']}",
                    money(ln["unit_price"], invoice.currency),
                    money(ln["amount"], invoice.currency),
                    ", ".join(f"#{s}" for s in ln["source_sets"]) or "—",
                ]
                for ln in data["lines"]
            ),
        )
        if not data["payments"]:
            self.stdout.write("No payments yet.")
            return
        rows_print(
            console(self.stdout),
            ["payment", "date", "paid", "matched by", "adjustments"],
            (
                [
                    p["trace"],
                    p["payment_date"],
                    money(p["paid"], c),
                    p["matched_by"].replace("_", " "),
                    ", ".join(f"{a['reason']} {money(a['amount'], c)}" for a in p["adjustments"])
                    or "—",
                ]
                for p in data["payments"]
            ),
        )


def _dateish(text: str) -> bool:
    try:
        return parse_date(text) is not None
    except ValueError:
        return False
