"""A second trading world the assistant has never seen: other names, codes and currencies
(reporting in GBP; a GBP consignment buyer and a EUR buyer-owned one), four weeks of 852s.
Built through the real pipeline (852 ingest) like the demo data."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from smi_core.models import AgreementTerm, SupplyAgreement
from smi_core.services.audit import Actor
from smi_core.services.fx import fx_load
from smi_edi.services.partners import partner_add
from tests.factories import ItemFactory, LocationFactory
from tests.pipeline import ingest
from tests.x12_builders import interchange, report_852

D = Decimal
TODAY = date(2026, 11, 25)
RATES = """currency,quote,date,rate,source
EUR,GBP,2026-10-02,0.8600,world2
EUR,GBP,2026-10-30,0.8700,world2
EUR,GBP,2026-11-20,0.8800,world2
GBP,USD,2026-10-02,1.2500,world2
GBP,USD,2026-11-20,1.3000,world2
"""
WEEKS = [
    ("20261026", "20261101"),
    ("20261102", "20261108"),
    ("20261109", "20261115"),
    ("20261116", "20261122"),
]
# (sender, store, item, [(on hand, sold) per week])
STOCK = [
    ("KESTREL", "KF-LON", "NW-200", [(120, 30), (95, 25), (60, 35), (40, 20)]),
    ("KESTREL", "KF-LON", "NW-310", [(50, 10), (44, 6), (30, 14), (0, 30)]),
    ("KESTREL", "KF-MAN", "NW-200", [(80, 12), (70, 10), (66, 4), (58, 8)]),
    ("KESTREL", "KF-MAN", "NW-420", [(200, 40), (170, 30), (150, 20), (130, 20)]),
    ("LUMEN", "LM-HAM", "NW-310", [(300, 50), (260, 40), (230, 30), (205, 25)]),
    ("LUMEN", "LM-HAM", "NW-420", [(90, 9), (84, 6), (80, 4), (72, 8)]),
]


def build_world2(settings, tmp_path) -> dict:
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    settings.SMI_OUTBOX_DIR = tmp_path / "outbox"
    settings.SMI_REPORTING_CURRENCY = "GBP"
    supplier, _ = partner_add(
        code="nordwind", name="Nordwind Handel", isa="ZZ:ACMESUPPLY", role="supplier"
    )
    kestrel, _ = partner_add(code="kestrel-foods", name="Kestrel Foods", isa="ZZ:KESTREL")
    lumen, _ = partner_add(code="lumen-markt", name="Lumen Markt", isa="ZZ:LUMEN")
    LocationFactory(party=kestrel.party, code="KF-LON", name="Kestrel London")
    LocationFactory(party=kestrel.party, code="KF-MAN", name="Kestrel Manchester")
    LocationFactory(party=lumen.party, code="LM-HAM", name="Lumen Hamburg")
    items = {
        code: ItemFactory(supplier=supplier.party, vendor_item=code, gtin="", description=text)
        for code, text in (
            ("NW-200", "Oat biscuits 300 g"),
            ("NW-310", "Rye crackers 200 g"),
            ("NW-420", "Herbal tea 20 bags"),
        )
    }
    gbp = SupplyAgreement.objects.create(
        code="nw-kestrel",
        buyer=kestrel.party,
        supplier=supplier.party,
        currency="GBP",
        ownership=SupplyAgreement.Ownership.CONSIGNMENT,
        payment_terms_days=21,
        lead_time_days=D(4),
        effective_from=date(2026, 1, 1),
    )
    eur = SupplyAgreement.objects.create(
        code="nw-lumen",
        buyer=lumen.party,
        supplier=supplier.party,
        currency="EUR",
        ownership=SupplyAgreement.Ownership.BUYER_ON_RECEIPT,
        payment_terms_days=60,
        lead_time_days=D(9),
        effective_from=date(2026, 1, 1),
    )
    for agreement, costs in ((gbp, ("1.10", "0.95", "2.40")), (eur, ("1.30", "1.15", "2.80"))):
        for (_code, item), cost in zip(items.items(), costs, strict=True):
            AgreementTerm.objects.create(agreement=agreement, item=item, unit_cost=D(cost))
    fx_load(text=RATES, actor=Actor.system("test"))
    control = 500
    for n, (start, end) in enumerate(WEEKS):
        for sender, store, item, weeks in STOCK:
            on_hand, sold = weeks[n]
            body = report_852(
                start,
                end,
                ship_to=store,
                lines=[(f"VN*{item}", [f"ZA*QA*{on_hand}*EA", f"ZA*QS*{sold}*EA"])],
            )
            body[1] = f"N1*BY*Buyer*92*{sender}"
            control += 1
            ingest(interchange([body], sender=sender, control=control))
    return {"supplier": supplier, "kestrel": kestrel, "lumen": lumen, "items": items}
