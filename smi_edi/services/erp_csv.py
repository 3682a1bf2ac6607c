"""Order confirmations (855s) and shipments (856s) from a supplier ERP's CSV file.

Three steps, so that nothing of a file is applied unless all of it is, while every refusal
is still recorded:

1. Every row is read and looked up; a bad row raises ``ErpCsvRejected`` naming its line,
   and nothing is written.
2. What can be refused without writing is checked for every order or shipment first: SoD
   for each shipment (``shipment_authorize`` records ``shipment.denied``) and the approval
   of each order to confirm (a lapsed one is recorded as ``order.acknowledge.refused``).
   Each refusal commits on its own; any refusal stops the import before anything applies.
3. Everything is applied in one transaction. When an order or shipment is refused there
   (an 855 or 856 failing our validation, a pack that does not fit), the transaction is
   rolled back and the refusal is recorded afterwards, in a transaction of its own, as an
   ``erp_import.refused`` event on each order it names (and a ``document_invalid``
   exception when a document failed our validation).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction

from smi_core.exceptions import ApplicationError
from smi_core.models import Party, ProposalLine, ReplenishmentProposal
from smi_core.services.audit import Actor, audit_record
from smi_core.services.exceptions import exception_raise
from smi_core.services.import_rows import ImportRejected, RowErrors, csv_rows, decode_utf8
from smi_core.services.orders import LineChange
from smi_core.services.proposals import ApprovalInvalid
from smi_core.services.shipments import PackLine, PackSpec, ShipmentSpec, shipment_authorize
from smi_core.services.sod import SodViolation
from smi_edi.models import OutboundDocument
from smi_edi.services.order_documents import (
    order_acknowledge,
    order_approval_lapsed,
    shipment_send,
)

NOTHING = "nothing was imported"


class ErpCsvRejected(ApplicationError):
    code = "erp_csv_rejected"


class _BadRow(Exception):
    pass


@dataclass
class ErpCsvFile:
    """A read CSV file: its name, sha256, column names and numbered rows (from line 2)."""

    name: str
    sha256: str
    columns: set[str]
    rows: list[tuple[int, dict]] = field(default_factory=list)

    @classmethod
    def of(cls, *, name: str, data: bytes, columns: Iterable[str], rows) -> ErpCsvFile:
        return cls(name, hashlib.sha256(data).hexdigest(), set(columns), list(rows))

    @classmethod
    def read(cls, *, name: str, data: bytes) -> ErpCsvFile:
        """The file's bytes as UTF-8 CSV: a byte that is not UTF-8 is refused naming its
        line, and so is a row with fewer or more values than the header (all of them)."""
        try:
            text = decode_utf8(data, name=name)
        except ImportRejected as exc:
            raise ErpCsvRejected(f"{exc.message}; {NOTHING}", extra=exc.extra) from None
        errors = RowErrors()
        columns, rows = csv_rows(text, name=name, errors=errors)
        errors.raise_if_any(ErpCsvRejected)
        return cls.of(name=name, data=data, columns=columns, rows=rows)


@dataclass
class _Refusal:
    message: str
    order_ids: list[int]
    document: str  # 855 or 856
    unit: str  # PO number or shipment number
    errors: list[str] = field(default_factory=list)
    rule_codes: list[str] = field(default_factory=list)
    code: str = "erp_csv_rejected"


def erp_csv_import(*, supplier: Party, file: ErpCsvFile, user=None) -> list[str]:
    """Import confirmations (a ``confirmed_quantity`` column) or shipments (a
    ``shipment_number`` column; ``user`` ships). Returns one line per document sent."""
    if "shipment_number" in file.columns:
        if user is None:
            raise ErpCsvRejected("a shipment file needs the user who ships")
        return _shipments_import(supplier=supplier, file=file, user=user)
    if "confirmed_quantity" in file.columns:
        return _confirmations_import(supplier=supplier, file=file)
    raise ErpCsvRejected(
        "the file has neither a confirmed_quantity column (confirmations) nor a "
        "shipment_number column (shipments)"
    )


# -- reading ------------------------------------------------------------------------------


def _decimal(row, name, required=True):
    value = (row.get(name) or "").strip()
    if not value:
        if required:
            raise _BadRow(f"{name} is empty")
        return None
    try:
        number = Decimal(value)
    except InvalidOperation as exc:
        raise _BadRow(f"{name} {value!r} is not a number") from exc
    if not number.is_finite() or number < 0:
        raise _BadRow(f"{name} {value!r} is negative")
    return number


def _date(row, name, required=False):
    value = (row.get(name) or "").strip()
    if not value:
        if required:
            raise _BadRow(f"{name} is empty")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise _BadRow(f"{name} {value!r} is not a date (YYYY-MM-DD)") from exc


def _order(supplier: Party, po: str) -> ReplenishmentProposal:
    order = ReplenishmentProposal.objects.filter(po_number=po, supplier=supplier).first()
    if order is None:
        raise _BadRow(f"{supplier.code} has no order with PO {po!r}")
    return order


def _line(order: ReplenishmentProposal, row) -> ProposalLine:
    lines = order.lines.select_related("item")
    if (row.get("line_id") or "").strip():
        line = lines.filter(pk=row["line_id"].strip()).first()
    else:
        line = lines.filter(item__vendor_item=(row.get("vendor_item") or "").strip()).first()
    if line is None:
        raise _BadRow(f"PO {order.po_number} has no such line")
    return line


def _rows(file: ErpCsvFile, read) -> None:
    """Read every row; every bad one is reported (``file:line: problem``), then nothing
    is applied."""
    errors = []
    for number, row in file.rows:
        try:
            read(row)
        except _BadRow as exc:
            errors.append(f"{file.name}:{number}: {exc}")
    if errors:
        raise ErpCsvRejected(
            f"{len(errors)} bad row(s); {NOTHING}:\n" + "\n".join(errors),
            extra={"errors": errors},
        )


# -- recording a refusal after the rollback ----------------------------------------------


def _record_refusal(*, refusal: _Refusal, file: ErpCsvFile, actor: Actor) -> None:
    """Written after the import's transaction rolled back, so the refusal stays on record."""
    with transaction.atomic():
        orders = ReplenishmentProposal.objects.filter(pk__in=refusal.order_ids).select_related(
            "buyer"
        )
        for order in orders.order_by("pk"):
            audit_record(
                actor=actor,
                action="erp_import.refused",
                object_type="proposal",
                object_id=order.pk,
                rule_codes=refusal.rule_codes,
                after={
                    "file": file.name,
                    "sha256": file.sha256,
                    "document": refusal.document,
                    "unit": refusal.unit,
                    "po_number": order.po_number,
                    "reason": refusal.message,
                    "errors": refusal.errors[:20],
                },
            )
            if refusal.errors:
                exception_raise(
                    kind="document_invalid",
                    partner=order.buyer,
                    subject=f"{refusal.document} for PO {order.po_number}",
                    message=f"The {refusal.document} for PO {order.po_number} from "
                    f"{file.name} failed our validation, so nothing of the file was "
                    "applied or sent: " + "; ".join(refusal.errors[:5]),
                    action="Correct the data in the ERP and import the file again.",
                    details={"errors": refusal.errors, "file": file.name},
                )


def _refuse(refusal: _Refusal, file: ErpCsvFile, actor: Actor):
    _record_refusal(refusal=refusal, file=file, actor=actor)
    message = f"{refusal.message}; {NOTHING}"
    if refusal.rule_codes:
        raise SodViolation(message, refusal.rule_codes)
    raise ErpCsvRejected(message, code=refusal.code, extra={"errors": refusal.errors})


def _refusal_of(exc: ApplicationError, *, order_ids, document: str, unit: str) -> _Refusal:
    return _Refusal(
        message=exc.message,
        order_ids=list(order_ids),
        document=document,
        unit=unit,
        errors=list(exc.extra.get("errors") or []),
        rule_codes=list(getattr(exc, "rule_codes", []) or []),
        code=exc.code,
    )


# -- confirmations (855) ------------------------------------------------------------------


def _confirmations_import(*, supplier: Party, file: ErpCsvFile) -> list[str]:
    actor = Actor.partner(supplier.code)
    per_order: dict[int, dict] = defaultdict(lambda: {"changes": {}, "erp": "", "order": None})

    def read(row):
        order = _order(supplier, (row.get("po_number") or "").strip())
        line = _line(order, row)
        entry = per_order[order.pk]
        entry["order"] = order
        entry["changes"][line.pk] = LineChange(
            quantity=_decimal(row, "confirmed_quantity"),
            promised_date=_date(row, "promised_date"),
            backordered=(row.get("backordered") or "").strip().lower() in ("1", "y", "yes", "true"),
            note=(row.get("note") or "").strip(),
        )
        entry["erp"] = (row.get("erp_reference") or "").strip()

    _rows(file, read)

    # An approval that no longer binds its order is refused (and recorded) before anything
    # of the file applies.
    lapsed = []
    for entry in per_order.values():
        order = entry["order"]
        reason = order_approval_lapsed(order, actor=actor, file=file.name)
        if reason:
            lapsed.append(f"order {order.po_number or order.pk} is not acknowledged: {reason}")
    if lapsed:
        raise ApprovalInvalid("; ".join(lapsed) + f"; it needs a new approval; {NOTHING}")

    refusal = None
    try:
        with transaction.atomic():
            documents = []
            for order_id, entry in per_order.items():
                po = entry["order"].po_number
                try:
                    document = order_acknowledge(
                        order_id=order_id,
                        actor=actor,
                        changes=entry["changes"],
                        erp_reference=entry["erp"],
                    )
                except ApplicationError as exc:
                    refusal = _refusal_of(exc, order_ids=[order_id], document="855", unit=po)
                    raise
                if document.status == OutboundDocument.Status.INVALID:
                    refusal = _Refusal(
                        message=f"the 855 for {po} failed our validation: "
                        + "; ".join(document.validation_errors[:3]),
                        order_ids=[order_id],
                        document="855",
                        unit=po,
                        errors=list(document.validation_errors),
                        code="document_invalid",
                    )
                    raise ErpCsvRejected(refusal.message)
                documents.append(document)
    except ApplicationError:
        if refusal is None:
            raise
        _refuse(refusal, file, actor)
    return [
        f"855 for {d.order.po_number}: ISA13 {d.interchange_control_number} {d.status}"
        for d in documents
    ]


# -- shipments (856) ----------------------------------------------------------------------


def _shipments_import(*, supplier: Party, file: ErpCsvFile, user) -> list[str]:
    actor = Actor.partner(supplier.code)
    shipments: dict[str, dict] = {}

    def read(row):
        key = (row.get("shipment_number") or "").strip()
        if not key:
            raise _BadRow("shipment_number is empty")
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
        order = _order(supplier, (row.get("po_number") or "").strip())
        line = _line(order, row)
        pack_key = (order.pk, (row.get("pack") or row.get("sscc") or "1").strip())
        pack = head["packs"].setdefault(
            pack_key, {"sscc": (row.get("sscc") or "").strip(), "lines": []}
        )
        pack["lines"].append(PackLine(line.pk, _decimal(row, "quantity")))

    _rows(file, read)
    specs = {
        key: ShipmentSpec(
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
        for key, head in shipments.items()
    }

    # SoD for every shipment first: each denial is recorded (shipment.denied, committed by
    # shipment_authorize) and any denial stops the file before anything applies.
    denials: list[SodViolation] = []
    for spec in specs.values():
        try:
            shipment_authorize(
                order_ids=sorted({p.order_id for p in spec.packs}), user=user, actor=actor
            )
        except SodViolation as exc:
            denials.append(exc)
    if denials:
        codes = sorted({code for exc in denials for code in exc.rule_codes})
        raise SodViolation(" ".join(exc.message for exc in denials) + f"; {NOTHING}", codes)

    refusal = None
    try:
        with transaction.atomic():
            sent = []
            for key, spec in specs.items():
                try:
                    sent.append(shipment_send(supplier=supplier, spec=spec, user=user, actor=actor))
                except ApplicationError as exc:
                    refusal = _refusal_of(
                        exc,
                        order_ids=sorted({p.order_id for p in spec.packs}),
                        document="856",
                        unit=key,
                    )
                    raise
    except ApplicationError:
        if refusal is None:
            raise
        _refuse(refusal, file, actor)
    return [
        f"shipment {shipment.shipment_number}: 856 ISA13 "
        f"{document.interchange_control_number} {document.status}"
        for shipment, document in sent
    ]
