"""The SMI domain models: parties, locations, items, product activity, inventory positions,
agreements, planning and the exceptions queue. Quantities are Decimal (X12 R type);
datetimes are UTC."""

from .activity_segments import ActivitySegment
from .agreements import AgreementTerm, SupplierCapacity, SupplyAgreement
from .approvals import Approval, ProposalStatusChange, SodOverride, SodRule
from .audit import AuditEvent
from .exceptions import ExceptionItem
from .finance import ExchangeRate, FinanceAccess, ReportingDate
from .inventory import QUANTITY, ZERO, InventoryPosition, ProductActivity, StockLevel
from .orders import Shipment, ShipmentLine, ShipmentPack
from .parties import Item, ItemCrossReference, Location, Party
from .partitions import ActivityArchive
from .planning import PlanRun, ProposalLine, ReplenishmentProposal, SeriesForecast
from .settlement import (
    PaymentApplication,
    Remittance,
    SettlementInvoice,
    SettlementLine,
    SettlementStatusChange,
)

__all__ = [
    "QUANTITY",
    "ZERO",
    "ActivityArchive",
    "ActivitySegment",
    "AgreementTerm",
    "Approval",
    "AuditEvent",
    "ExceptionItem",
    "ExchangeRate",
    "FinanceAccess",
    "InventoryPosition",
    "Item",
    "ItemCrossReference",
    "Location",
    "Party",
    "PaymentApplication",
    "PlanRun",
    "ProductActivity",
    "ProposalLine",
    "ProposalStatusChange",
    "Remittance",
    "ReplenishmentProposal",
    "ReportingDate",
    "SeriesForecast",
    "SettlementInvoice",
    "SettlementLine",
    "SettlementStatusChange",
    "Shipment",
    "ShipmentLine",
    "ShipmentPack",
    "SodOverride",
    "SodRule",
    "StockLevel",
    "SupplierCapacity",
    "SupplyAgreement",
]
