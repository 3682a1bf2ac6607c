"""Order confirmations or shipments from a supplier ERP's CSV file.

Confirmations (columns po_number, line_id or vendor_item, confirmed_quantity, and
optionally promised_date, backordered, note, erp_reference) send one 855 per order.
Shipments (columns shipment_number, ship_date, po_number, pack, vendor_item or line_id,
quantity, and optionally sscc, estimated_delivery, carrier_scac, bill_of_lading,
pro_number) send one 856 per shipment. The whole file is checked first: a bad row is
reported with its line number and nothing is applied. A refused order or shipment (SoD, an
approval no longer in force, an 855/856 failing our validation) applies nothing of the file
either, and the refusal is recorded. Exit 3 when SoD denied it, 1 for any other problem.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from smi_core.exceptions import ApplicationError
from smi_core.management.commands._actor import user_named
from smi_core.models import Party
from smi_core.services.sod import SodViolation
from smi_edi.services.erp_csv import ErpCsvFile, erp_csv_import


class Command(BaseCommand):
    help = (
        "Import order confirmations (sends 855s) or shipments (sends 856s) from CSV. The file "
        "is checked whole; a bad row or a refused order or shipment applies nothing (refusals "
        "are recorded). Exit 3 when segregation of duties denied it."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--supplier", required=True, help="supplier code")
        parser.add_argument(
            "--as", dest="username", default="", help="user who ships (default partner-CODE)"
        )

    def handle(self, *args, **o):
        supplier = Party.objects.filter(code=o["supplier"]).first()
        if supplier is None:
            raise CommandError(f"no supplier {o['supplier']!r}")
        try:
            with open(o["file"], "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise CommandError(f"cannot read {o['file']}: {exc.strerror}") from exc
        try:
            file = ErpCsvFile.read(name=Path(o["file"]).name, data=data)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        user = None
        if "shipment_number" in file.columns:
            user = user_named(o["username"] or f"partner-{supplier.code}")
        try:
            sent = erp_csv_import(supplier=supplier, file=file, user=user)
        except SodViolation as exc:
            raise CommandError(
                f"denied ({', '.join(exc.rule_codes)}): {exc.message}", returncode=3
            ) from exc
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        for line in sent:
            self.stdout.write(line)
