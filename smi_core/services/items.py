"""The item master: import items and buyers' cross-references from CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction

from smi_core.exceptions import ApplicationError
from smi_core.models import Item, ItemCrossReference, Party
from smi_edi.x12.ts852 import normalise_gtin

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
    if not gtin.isdigit() or len(gtin) not in (8, 12, 13, 14):
        return False
    digits = [int(d) for d in gtin.zfill(14)]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(digits[:-1]))
    return (10 - total % 10) % 10 == digits[-1]


def items_import(*, text: str) -> ImportSummary:
    """Create or update items (and cross-references) from CSV text with a header row.

    Every row is checked first; if any is bad, nothing is applied and the error lists each
    bad row by its line number.
    """
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportRejected(
            f"the CSV header lacks {', '.join(missing)}; columns are {', '.join(COLUMNS)}"
        )
    parties = {p.code: p for p in Party.objects.all()}
    rows, errors = [], []
    for row in reader:
        line = reader.line_num
        row = {k: (v or "").strip() for k, v in row.items() if k}
        problems = []
        supplier = parties.get(row["supplier"])
        if supplier is None or not supplier.is_supplier:
            problems.append(f"supplier {row['supplier']!r} is not a registered supplier")
        if not row["vendor_item"]:
            problems.append("vendor_item is empty")
        gtin = row.get("gtin", "")
        if gtin and not gtin_is_valid(gtin):
            problems.append(f"GTIN {gtin!r} has a wrong check digit or length")
        try:
            pack = Decimal(row.get("pack_size") or "1")
            if pack <= 0:
                raise InvalidOperation
        except InvalidOperation:
            problems.append(f"pack_size {row.get('pack_size')!r} is not a positive number")
            pack = Decimal(1)
        buyer = None
        if row.get("buyer_item"):
            buyer = parties.get(row.get("buyer", ""))
            if buyer is None or not buyer.is_buyer:
                problems.append(
                    f"buyer {row.get('buyer')!r} is not a registered buyer (needed for buyer_item)"
                )
        unit = (row.get("unit") or "EA").upper()
        if len(unit) != 2:
            problems.append(f"unit {unit!r} is not a two-letter X12 unit code")
        if problems:
            errors.append(f"line {line}: " + "; ".join(problems))
            continue
        rows.append((supplier, row, normalise_gtin(gtin) if gtin else "", pack, unit, buyer))
    if errors:
        raise ImportRejected(
            f"{len(errors)} bad row(s); nothing was imported:\n" + "\n".join(errors),
            extra={"errors": errors},
        )
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
