"""The item master: import items and buyers' cross-references from CSV."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from smi_core.exceptions import ApplicationError
from smi_core.models import Item, ItemCrossReference, Party
from smi_core.services.import_rows import (
    RowErrors,
    Seen,
    csv_rows,
    decimal_for,
    gtin14,
    text_for,
)

REQUIRED = ("supplier", "vendor_item")
COLUMNS = (
    "supplier",
    "vendor_item",
    "gtin",
    "description",
    "unit",
    "pack_size",
    "buyer",
    "buyer_item",
)


class ImportRejected(ApplicationError):
    code = "import_rejected"


@dataclass
class ImportSummary:
    items_created: int = 0
    items_updated: int = 0
    items_unchanged: int = 0
    cross_references: int = 0


def gtin_is_valid(gtin: str) -> bool:
    """GS1 check digit of a GTIN-8/12/13/14."""
    try:
        gtin14(gtin)
    except ValueError:
        return False
    return True


def items_import(*, text: str, name: str = "items.csv") -> ImportSummary:
    """Create or update items (and cross-references) from CSV text with a header row.

    Every row is checked first (see :mod:`smi_core.services.import_rows`); if any is bad,
    nothing is applied and the error lists each bad row as ``name:line: field: problem``.
    """
    errors = RowErrors()
    _, records = csv_rows(text, name=name, errors=errors, required=REQUIRED)
    parties = {p.code: p for p in Party.objects.all()}
    rows = []
    vendor_items, buyer_items = Seen(), Seen()
    for line, row in records:
        where = f"{name}:{line}"
        bad = len(errors)
        supplier = parties.get(row["supplier"])
        if supplier is None or not supplier.is_supplier:
            errors.add(where, "supplier", f"{row['supplier']!r} is not a registered supplier")
        if not row["vendor_item"]:
            errors.add(where, "vendor_item", "is empty")
        for field in ("vendor_item", "description"):
            try:
                text_for(Item, field, row.get(field, ""))
            except ValueError as exc:
                errors.add(where, field, str(exc))
        gtin = row.get("gtin", "")
        if gtin:
            try:
                gtin = gtin14(gtin)
            except ValueError as exc:
                errors.add(where, "gtin", str(exc))
        pack = Decimal(1)
        if "pack_size" in row:
            try:
                pack = decimal_for(Item, "pack_size", row["pack_size"], positive=True)
            except ValueError as exc:
                errors.add(where, "pack_size", str(exc))
        buyer = None
        if row.get("buyer_item"):
            buyer = parties.get(row.get("buyer", ""))
            if buyer is None or not buyer.is_buyer:
                errors.add(
                    where,
                    "buyer",
                    f"{row.get('buyer')!r} is not a registered buyer (needed for buyer_item)",
                )
            try:
                text_for(ItemCrossReference, "buyer_item", row["buyer_item"])
            except ValueError as exc:
                errors.add(where, "buyer_item", str(exc))
            first = buyer_items.first((row.get("buyer"), row["buyer_item"]), line)
            if first is not None:
                errors.add(
                    where,
                    "buyer_item",
                    f"{row.get('buyer')} {row['buyer_item']} is also on line {first}",
                )
        unit = (row.get("unit") or "EA").upper()
        if len(unit) != 2 or not unit.isalnum() or not unit.isascii():
            errors.add(where, "unit", f"{unit!r} is not a two-letter X12 unit code")
        if row["vendor_item"]:
            first = vendor_items.first((row["supplier"], row["vendor_item"]), line)
            if first is not None:
                errors.add(
                    where,
                    "vendor_item",
                    f"{row['supplier']} {row['vendor_item']} is also on line {first}",
                )
        if len(errors) == bad:
            rows.append((supplier, row, gtin, pack, unit, buyer))
    errors.raise_if_any(ImportRejected)
    summary = ImportSummary()
    with transaction.atomic():
        for supplier, row, gtin, pack, unit, buyer in rows:
            wanted = {
                "gtin": gtin,
                "description": row.get("description", ""),
                "unit": unit,
                "pack_size": pack,
            }
            item = Item.objects.filter(supplier=supplier, vendor_item=row["vendor_item"]).first()
            if item is None:
                item = Item.objects.create(
                    supplier=supplier, vendor_item=row["vendor_item"], **wanted
                )
                summary.items_created += 1
            elif any(getattr(item, k) != v for k, v in wanted.items()):
                for k, v in wanted.items():
                    setattr(item, k, v)
                item.needs_review = False
                item.save()
                summary.items_updated += 1
            else:
                summary.items_unchanged += 1
            if buyer is not None:
                ItemCrossReference.objects.update_or_create(
                    buyer=buyer, buyer_item=row["buyer_item"], defaults={"item": item}
                )
                summary.cross_references += 1
    return summary
