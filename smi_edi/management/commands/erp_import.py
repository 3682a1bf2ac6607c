"""Order confirmations or shipments from a supplier ERP's CSV file.

Confirmations (columns po_number, line_id or vendor_item, confirmed_quantity, and
optionally promised_date, backordered, note, erp_reference) send one 855 per order.
Shipments (columns shipment_number, ship_date, po_number, pack, vendor_item or line_id,
quantity, and optionally sscc, estimated_delivery, carrier_scac, bill_of_lading,
pro_number) send one 856 per shipment. The whole file is checked first: a bad row is
reported with its line number and nothing is applied.
"""

import csv
from collections import defaultdict
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from smi_core.exceptions import ApplicationError
from smi_core.management.commands._actor import user_named
from smi_core.models import Party, ProposalLine, ReplenishmentProposal
from smi_core.services.audit import Actor
from smi_core.services.orders import LineChange
from smi_core.services.shipments import PackLine, PackSpec, ShipmentSpec
from smi_edi.services.order_documents import order_acknowledge, shipment_send


class BadRow(Exception):
    pass


def _decimal(row, name, required=True):
    value = (row.get(name) or "").strip()
    if not value:
        if required:
            raise BadRow(f"{name} is empty")
        return None
    try:
        number = Decimal(value)
    except InvalidOperation as exc:
        raise BadRow(f"{name} {value!r} is not a number") from exc
    if number < 0:
        raise BadRow(f"{name} {value!r} is negative")
    return number


def _date(row, name, required=False):
    value = (row.get(name) or "").strip()
    if not value:
        if required:
            raise BadRow(f"{name} is empty")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise BadRow(f"{name} {value!r} is not a date (YYYY-MM-DD)") from exc


class Command(BaseCommand):
    help = "Import order confirmations (sends 855s) or shipments (sends 856s) from CSV."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--supplier", required=True, help="supplier code")
        parser.add_argument("--as", dest="username", default="", help="user who ships")

    def handle(self, *args, **o):
        supplier = Party.objects.filter(code=o["supplier"]).first()
        if supplier is None:
            raise CommandError(f"no supplier {o['supplier']!r}")
        try:
            with open(o["file"], newline="", encoding="utf-8-sig") as handle:
                reader = csv.DictReader(handle)
                columns = set(reader.fieldnames or [])
                rows = list(enumerate(reader, start=2))
        except OSError as exc:
            raise CommandError(f"cannot read {o['file']}: {exc.strerror}") from exc
        self.supplier = supplier
        try:
            if "shipment_number" in columns:
                self._shipments(rows, o)
            elif "confirmed_quantity" in columns:
                self._confirmations(rows)
            else:
                raise CommandError(
                    "the file has neither a confirmed_quantity column (confirmations) nor a "
                    "shipment_number column (shipments)"
                )
        except BadRow as exc:
            raise CommandError(f"{o['file']}: {exc}; nothing was imported") from exc
        except ApplicationError as exc:
            raise CommandError(f"{exc.message}; nothing was imported") from exc

    def _order(self, number: int, po: str) -> ReplenishmentProposal:
        order = ReplenishmentProposal.objects.filter(po_number=po, supplier=self.supplier).first()
        if order is None:
            raise BadRow(f"{self.supplier.code} has no order with PO {po!r}")
        return order

    def _line(self, number: int, order, row) -> ProposalLine:
        lines = order.lines.select_related("item")
        if (row.get("line_id") or "").strip():
            line = lines.filter(pk=row["line_id"].strip()).first()
        else:
            line = lines.filter(item__vendor_item=(row.get("vendor_item") or "").strip()).first()
        if line is None:
            raise BadRow(f"PO {order.po_number} has no such line")
        return line

    def _confirmations(self, rows) -> None:
        per_order: dict[int, dict] = defaultdict(lambda: {"changes": {}, "erp": ""})
        for number, row in rows:
            try:
                order = self._order(number, (row.get("po_number") or "").strip())
                line = self._line(number, order, row)
                per_order[order.pk]["changes"][line.pk] = LineChange(
                    quantity=_decimal(row, "confirmed_quantity"),
                    promised_date=_date(row, "promised_date"),
                    backordered=(row.get("backordered") or "").strip().lower()
                    in ("1", "y", "yes", "true"),
                    note=(row.get("note") or "").strip(),
                )
                per_order[order.pk]["erp"] = (row.get("erp_reference") or "").strip()
            except BadRow as exc:
                raise BadRow(f"line {number}: {exc}") from None
        with transaction.atomic():
            documents = [
                order_acknowledge(
                    order_id=order_id,
                    actor=Actor.partner(self.supplier.code),
                    changes=data["changes"],
                    erp_reference=data["erp"],
                )
                for order_id, data in per_order.items()
            ]
            invalid = [d for d in documents if d.status == "invalid"]
            if invalid:
                raise ApplicationError(
                    f"the 855 for {invalid[0].order.po_number} failed our validation: "
                    + "; ".join(invalid[0].validation_errors[:3])
                )
        for document in documents:
            self.stdout.write(
                f"855 for {document.order.po_number}: ISA13 {document.interchange_control_number} "
                f"{document.status}"
            )

    def _shipments(self, rows, o) -> None:
        user = user_named(o["username"] or f"partner-{self.supplier.code}")
        shipments: dict[str, dict] = {}
        for number, row in rows:
            try:
                key = (row.get("shipment_number") or "").strip()
                if not key:
                    raise BadRow("shipment_number is empty")
                head = shipments.setdefault(
                    key,
                    {
                        "ship_date": _date(row, "ship_date", required=True),
                        "estimated_delivery": _date(row, "estimated_delivery"),
                        "carrier_scac": (row.get("carrier_scac") or "").strip(),
                        "bill_of_lading": (row.get("bill_of_lading") or "").strip(),
                        "pro_number": (row.get("pro_number") or "").strip(),
                        "packs": {},
                    },
                )
                order = self._order(number, (row.get("po_number") or "").strip())
                line = self._line(number, order, row)
                pack_key = (order.pk, (row.get("pack") or row.get("sscc") or "1").strip())
                pack = head["packs"].setdefault(
                    pack_key, {"sscc": (row.get("sscc") or "").strip(), "lines": []}
                )
                pack["lines"].append(PackLine(line.pk, _decimal(row, "quantity")))
            except BadRow as exc:
                raise BadRow(f"line {number}: {exc}") from None
        with transaction.atomic():
            sent = []
            for key, head in shipments.items():
                spec = ShipmentSpec(
                    ship_date=head["ship_date"],
                    estimated_delivery=head["estimated_delivery"],
                    carrier_scac=head["carrier_scac"],
                    bill_of_lading=head["bill_of_lading"],
                    pro_number=head["pro_number"],
                    shipment_number=key,
                    packs=[
                        PackSpec(order_id=order_id, lines=tuple(p["lines"]), sscc=p["sscc"])
                        for (order_id, _), p in head["packs"].items()
                    ],
                )
                sent.append(
                    shipment_send(
                        supplier=self.supplier,
                        spec=spec,
                        user=user,
                        actor=Actor.partner(self.supplier.code),
                    )
                )
        for shipment, document in sent:
            self.stdout.write(
                f"shipment {shipment.shipment_number}: 856 ISA13 "
                f"{document.interchange_control_number} {document.status}"
            )
