"""Write the demo data under samples/ (deterministic; the files are committed).

    python samples/generate.py

Three buyers get eight weekly 852s each from their stores and DC, all sent to Acme Supply;
the last week of Demo Retail mentions an item Acme does not know, so the exceptions queue
has something to show.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ITEMS = [
    ("ACME-1001", "Hand soap 250 ml", "soap"),
    ("ACME-1002", "Dish liquid 500 ml", "soap"),
    ("ACME-1003", "Laundry pods 24", "laundry"),
    ("ACME-1004", "Paper towels 6 rolls", "paper"),
    ("ACME-1005", "Toilet tissue 12 rolls", "paper"),
    ("ACME-1006", "Glass cleaner 750 ml", "cleaner"),
    ("ACME-1007", "Sponges 3 pack", "tools"),
    ("ACME-1008", "Trash bags 30 l", "bags"),
    ("ACME-1009", "Bleach 1 l", "cleaner"),
    ("ACME-1010", "Floor cleaner 1 l", "cleaner"),
    ("ACME-1011", "Hand sanitizer 100 ml", "soap"),
    ("ACME-1012", "Fabric softener 1 l", "laundry"),
    ("ACME-1013", "Dishwasher tabs 40", "soap"),
    ("ACME-1014", "Air freshener", "cleaner"),
    ("ACME-1015", "Rubber gloves M", "tools"),
    ("ACME-1016", "Microfiber cloths 5", "tools"),
    ("ACME-1017", "Oven cleaner 500 ml", "cleaner"),
    ("ACME-1018", "Stain remover 750 ml", "laundry"),
    ("ACME-1019", "Descaler 500 ml", "cleaner"),
    ("ACME-1020", "Bin liners 50 l", "bags"),
]
PACKS = (6, 12, 24)
BUYERS = {
    # code: (ISA id, ship-to DC, stores)
    "demo-retail": ("DEMORETAIL", "DC01", ["S001", "S002", "S003", "S004"]),
    "city-mart": ("CITYMART", "CM-DC", ["CM-01", "CM-02"]),
    "acme-stores-eu": ("ACMESTORESEU", "EU-DC", ["EU-BER", "EU-PAR"]),
}
FIRST_WEEK_END = date(2026, 10, 4)
WEEKS = 8


def gtin(n: int) -> str:
    body = f"0061414{n:06d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def items_csv() -> str:
    rows = ["supplier,vendor_item,gtin,description,unit,pack_size,buyer,buyer_item"]
    for i, (vendor_item, description, _) in enumerate(ITEMS, start=1):
        rows.append(
            f"acme-supply,{vendor_item},{gtin(1000 + i)},{description},EA,{PACKS[i % 3]},demo-retail,DR-{50000 + i}"
        )
    return "\n".join(rows) + "\n"


def report(buyer: str, week: int, control: int, rnd: random.Random) -> str:
    isa_id, dc, stores = BUYERS[buyer]
    end = FIRST_WEEK_END + timedelta(weeks=week)
    start = end - timedelta(days=6)
    sent = end + timedelta(days=1)
    segments = [
        f"ST*852*{control:04d}",
        f"XQ*H*{start:%Y%m%d}*{end:%Y%m%d}",
        f"N9*IA*{buyer.upper()}-VMI",
        f"N1*BY*{buyer}*92*{isa_id}",
        "N1*SU*Acme Supply*92*ACMESUPPLY",
        f"N1*ST*{buyer} DC*92*{dc}",
    ]
    for i, (vendor_item, _, _) in enumerate(ITEMS, start=1):
        if buyer == "demo-retail" and i % 3 and i % 2:
            segments.append(f"LIN**IN*DR-{50000 + i}*UP*{gtin(1000 + i)[2:]}")
        elif i % 2 == 0:
            segments.append(f"LIN**UP*{gtin(1000 + i)[2:]}")
        else:
            segments.append(f"LIN**VN*{vendor_item}")
        base = 12 + (i * 7) % 30
        sold = [
            max(0, round(rnd.gauss(base / 3, base / 10))) if rnd.random() > 0.1 else 0
            for _ in stores
        ]
        on_hand = [max(0, base - s + rnd.randint(-4, 10)) for s in sold]
        segments += [
            "ZA*QA**EA",
            "SDQ*EA*92*" + "*".join(f"{s}*{q}" for s, q in zip(stores, on_hand, strict=True)),
        ]
        segments += [
            "ZA*QS**EA",
            "SDQ*EA*92*" + "*".join(f"{s}*{q}" for s, q in zip(stores, sold, strict=True)),
        ]
        if i % 4 == 0:
            segments += [
                "ZA*QP**EA",
                "SDQ*EA*92*" + "*".join(f"{s}*{12 if k == 0 else 0}" for k, s in enumerate(stores)),
            ]
        segments.append(f"ZA*QA*{120 + i * 3 + rnd.randint(-10, 10)}*EA")
    if buyer == "demo-retail" and week == WEEKS - 1:
        segments += [
            "LIN**UP*061414999998*VN*ACME-9999",
            "ZA*QA**EA",
            f"SDQ*EA*92*{stores[0]}*4*{stores[1]}*7",
        ]
    segments.append(
        f"CTT*{len(ITEMS) + (1 if buyer == 'demo-retail' and week == WEEKS - 1 else 0)}"
    )
    segments.append(f"SE*{len(segments) + 1}*{control:04d}")
    return (
        f"ISA*00*          *00*          *ZZ*{isa_id:<15}*ZZ*ACMESUPPLY     *{sent:%y%m%d}*0600*U*00401*{control:09d}*0*P*>~\n"
        f"GS*PD*{isa_id}*ACMESUPPLY*{sent:%Y%m%d}*0600*{control}*X*004010~\n"
        + "~\n".join(segments)
        + f"~\nGE*1*{control}~\nIEA*1*{control:09d}~\n"
    )


def main() -> None:
    (HERE / "items.csv").write_text(items_csv())
    out = HERE / "852"
    out.mkdir(exist_ok=True)
    for old in out.glob("*.edi"):
        old.unlink()
    for n, buyer in enumerate(BUYERS):
        rnd = random.Random(n + 7)
        for week in range(WEEKS):
            end = FIRST_WEEK_END + timedelta(weeks=week)
            (out / f"{buyer}-{end:%Y%m%d}.edi").write_text(
                report(buyer, week, 100 * (n + 1) + week, rnd)
            )


if __name__ == "__main__":
    main()
