"""The 856 ship notice in the S-O-P-I hierarchy: built from plain data, and read back.
Framework-free.

BSN (purpose, shipment id, date, time, 0001); HL S with TD5, REF BM/CN, DTM 011/017 and
N1 SF/ST; HL O per order with PRF; HL P per pack with MAN GM (SSCC-18); HL I per item with
LIN and SN1; CTT01 = number of HL segments, CTT02 = sum of SN102. The tree exists only
through HL01 (id) and HL02 (parent id).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from smi_edi.gs1 import sscc_valid
from smi_edi.x12.ts855 import number, product_id_elements, product_id_pairs

STRUCTURE_SOPI = "0001"


@dataclass(frozen=True)
class ShipItem:
    line_number: str
    product_ids: tuple[tuple[str, str], ...]
    quantity: Decimal
    unit: str = "EA"


@dataclass(frozen=True)
class Pack:
    sscc: str
    items: tuple[ShipItem, ...]


@dataclass(frozen=True)
class ShipOrder:
    po_number: str
    po_date: date | None
    packs: tuple[Pack, ...]


@dataclass(frozen=True)
class Shipment856:
    shipment_id: str
    created: datetime
    ship_date: date
    estimated_delivery: date | None
    carrier_scac: str
    transport_method: str = "M"
    bill_of_lading: str = ""
    pro_number: str = ""
    ship_from: tuple[str, str, str] | None = None  # (name, N103 qualifier, N104 id)
    ship_to: tuple[str, str, str] | None = None
    orders: tuple[ShipOrder, ...] = ()
    purpose: str = "00"


def hl_count(shipment: Shipment856) -> int:
    return 1 + sum(
        1 + sum(1 + len(pack.items) for pack in order.packs) for order in shipment.orders
    )


def total_quantity(shipment: Shipment856) -> Decimal:
    return sum(
        (item.quantity for order in shipment.orders for pack in order.packs for item in pack.items),
        Decimal(0),
    )


def _d8(value: date) -> str:
    return value.strftime("%Y%m%d")


def segments_856(shipment: Shipment856, *, version: str = "004010") -> list[list]:
    """The body of the 856 (between ST and SE)."""
    out: list[list] = [
        [
            "BSN",
            shipment.purpose,
            shipment.shipment_id,
            _d8(shipment.created),
            shipment.created.strftime("%H%M"),
            STRUCTURE_SOPI,
        ],
        ["HL", "1", None, "S", "1" if shipment.orders else "0"],
    ]
    if shipment.carrier_scac:
        out.append(["TD5", "B", "2", shipment.carrier_scac, shipment.transport_method or None])
    if shipment.bill_of_lading:
        out.append(["REF", "BM", shipment.bill_of_lading])
    if shipment.pro_number:
        out.append(["REF", "CN", shipment.pro_number])
    out.append(["DTM", "011", _d8(shipment.ship_date)])
    if shipment.estimated_delivery:
        out.append(["DTM", "017", _d8(shipment.estimated_delivery)])
    for code, party in (("SF", shipment.ship_from), ("ST", shipment.ship_to)):
        if party:
            out.append(["N1", code, party[0] or None, party[1], party[2]])
    hl = 1
    total = Decimal(0)
    for order in shipment.orders:
        hl += 1
        order_hl = hl
        out.append(["HL", str(order_hl), "1", "O", "1" if order.packs else "0"])
        out.append(
            ["PRF", order.po_number, None, None, _d8(order.po_date) if order.po_date else None]
        )
        for pack in order.packs:
            if not sscc_valid(pack.sscc):
                raise ValueError(f"pack {pack.sscc!r} of PO {order.po_number} has no valid SSCC-18")
            hl += 1
            pack_hl = hl
            out.append(["HL", str(pack_hl), str(order_hl), "P", "1" if pack.items else "0"])
            out.append(["MAN", "GM", pack.sscc])
            for item in pack.items:
                hl += 1
                out.append(["HL", str(hl), str(pack_hl), "I", "0"])
                out.append(
                    ["LIN", item.line_number or None, *product_id_elements(item.product_ids)]
                )
                out.append(["SN1", None, number(item.quantity), item.unit])
                total += item.quantity
    out.append(["CTT", str(hl), number(total)])
    return out


def _date(value: str) -> date:
    return date(int(value[:4]), int(value[4:6]), int(value[6:8]))


def _at(elements: Sequence[str], index: int) -> str:
    return elements[index] if len(elements) > index else ""


def _shipment_level(head: dict, tag: str, elements: Sequence[str]) -> None:
    """Keep what the shipment (HL S) level says: carrier, references, dates, parties."""
    code = _at(elements, 1)
    if tag == "TD5":
        head.update(carrier_scac=_at(elements, 3), transport_method=_at(elements, 4))
    elif tag == "REF" and code in ("BM", "CN"):
        head["bill_of_lading" if code == "BM" else "pro_number"] = _at(elements, 2)
    elif tag == "DTM" and code in ("011", "017"):
        head["ship_date" if code == "011" else "estimated_delivery"] = _date(_at(elements, 2))
    elif tag == "N1" and code in ("SF", "ST"):
        party = (_at(elements, 2), _at(elements, 3), _at(elements, 4))
        head["ship_from" if code == "SF" else "ship_to"] = party


def read_856(segments: Iterable[Sequence[str]]) -> Shipment856:
    """The 856 in ``segments`` (its body, with or without ST/SE) as data; the hierarchy is
    rebuilt from HL01/HL02, whatever order the levels come in."""
    head: dict = {"orders": ()}
    levels: dict[str, dict] = {}  # HL01 -> {"code", "parent", data...}
    order_of_levels: list[str] = []
    current: dict | None = None
    for elements in segments:
        tag = elements[0]
        if tag == "ST" and _at(elements, 1) != "856":
            raise ValueError(f"transaction set {_at(elements, 1)} is not an 856")
        if tag == "BSN":
            stamp = _at(elements, 3) + (_at(elements, 4) or "0000")[:4]
            head.update(
                purpose=_at(elements, 1),
                shipment_id=_at(elements, 2),
                created=datetime.strptime(stamp, "%Y%m%d%H%M"),  # noqa: DTZ007 - as written
            )
        elif tag == "HL":
            current = {"code": _at(elements, 3), "parent": _at(elements, 2), "ids": ()}
            levels[_at(elements, 1)] = current
            order_of_levels.append(_at(elements, 1))
        elif current is None:
            continue  # header segments before the first HL (BSN's DTM) carry nothing we keep
        elif current["code"] == "S":
            _shipment_level(head, tag, elements)
        elif tag == "PRF":
            when = _at(elements, 4)
            current.update(po_number=_at(elements, 1), po_date=_date(when) if when else None)
        elif tag == "MAN" and _at(elements, 1) == "GM":
            current["sscc"] = _at(elements, 2)
        elif tag == "LIN":
            current.update(line_number=_at(elements, 1), ids=product_id_pairs(elements[2:]))
        elif tag == "SN1":
            current.update(quantity=Decimal(_at(elements, 2)), unit=_at(elements, 3))
    children: dict[str, list[str]] = {}
    for key in order_of_levels:
        children.setdefault(levels[key]["parent"], []).append(key)

    def items_of(pack_key: str) -> tuple[ShipItem, ...]:
        return tuple(
            ShipItem(
                line_number=levels[k].get("line_number", ""),
                product_ids=levels[k]["ids"],
                quantity=levels[k].get("quantity", Decimal(0)),
                unit=levels[k].get("unit", "EA"),
            )
            for k in children.get(pack_key, [])
            if levels[k]["code"] == "I"
        )

    orders = []
    for shipment_key in [k for k in order_of_levels if levels[k]["code"] == "S"]:
        for order_key in children.get(shipment_key, []):
            order = levels[order_key]
            if order["code"] != "O":
                continue
            packs = tuple(
                Pack(sscc=levels[k].get("sscc", ""), items=items_of(k))
                for k in children.get(order_key, [])
                if levels[k]["code"] == "P"
            )
            orders.append(
                ShipOrder(
                    po_number=order.get("po_number", ""),
                    po_date=order.get("po_date"),
                    packs=packs,
                )
            )
    head["orders"] = tuple(orders)
    head.setdefault("estimated_delivery", None)
    head.setdefault("carrier_scac", "")
    return Shipment856(**head)
