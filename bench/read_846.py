"""Benchmark: the same stock reported as an 852 and as an 846, read into activity
quantities and validated; the 852 is the reference.

    python bench/read_846.py [--items 900] [--stores 10] [--repeat 3]

Three files with the same figures (on hand and on order per item and store): an 852 (ZA
with SDQ lines, as retailers send it), an 846 with one LIN loop per item and store (QTY
17 and 63, then the LIN's N1), and an 846 with the on-hand figures in SDQ lines (on order
then per store LIN). Per file: reading + mapping (``X12Reader`` into ``Activity852`` /
``Activity846``, quantities counted) and our validation (``validate()``, what the
ingestion runs), the best of ``--repeat`` runs each, with the ratio to the 852. The 846
allows 10,000 LIN loops, so items x stores (+ items, SDQ form) must stay under it or the
846s are rightly rejected.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEAD = (
    "ISA*00*          *00*          *ZZ*DEMORETAIL     *ZZ*ACMESUPPLY     *261116*0600*U*"
    "00401*000000001*0*P*>"
)


def _envelope(set_id: str, gs01: str, body: list[str]) -> bytes:
    segments = [
        HEAD,
        f"GS*{gs01}*DEMORETAIL*ACMESUPPLY*20261116*0600*1*X*004010",
        f"ST*{set_id}*0001",
        *body,
        f"SE*{len(body) + 2}*0001",
        "GE*1*1",
        "IEA*1*000000001",
    ]
    return ("~\n".join(segments) + "~\n").encode()


def files(items: int, stores: int) -> dict[str, bytes]:
    names = [f"S{s:04d}" for s in range(stores)]

    def on_hand(i: int, s: int) -> int:
        return (i * 7 + s * 3) % 50

    def on_order(i: int, s: int) -> int:
        return (i + s) % 12

    def sdq(values) -> list[str]:
        out = []
        for start in range(0, stores, 10):
            pairs = "*".join(
                f"{names[s]}*{values(s)}" for s in range(start, min(start + 10, stores))
            )
            out.append(f"SDQ*EA*92*{pairs}")
        return out

    body_852 = ["XQ*H*20261109*20261115", "N1*BY*Demo*92*DEMORETAIL", "N1*ST*DC*92*DC01"]
    body_846 = ["BIA*00*DD*R-1*20261115", "N1*BY*Demo*92*DEMORETAIL", "N1*ST*DC*92*DC01"]
    body_sdq = list(body_846)
    lin = 0
    for i in range(items):
        gtin = f"{614140000000 + i:012d}"
        body_852 += [f"LIN**UP*{gtin}", "ZA*QA**EA", *sdq(lambda s, i=i: on_hand(i, s))]
        body_852 += ["ZA*QP**EA", *sdq(lambda s, i=i: on_order(i, s))]
        lin += 1
        body_sdq += [f"LIN*{lin}*UP*{gtin}", *sdq(lambda s, i=i: on_hand(i, s))]
        for s in range(stores):
            body_846 += [
                f"LIN*{lin}*UP*{gtin}",
                f"QTY*17*{on_hand(i, s)}*EA",
                f"QTY*63*{on_order(i, s)}*EA",
                f"N1*RL**92*{names[s]}",
            ]
            body_sdq += [
                f"LIN*{lin}*UP*{gtin}",
                f"QTY*63*{on_order(i, s)}*EA",
                f"N1*RL**92*{names[s]}",
            ]
            lin += 1
    body_852.append(f"CTT*{items}")
    body_846.append(f"CTT*{items * stores}")
    body_sdq.append(f"CTT*{lin}")
    return {
        "852 (ZA + SDQ)": _envelope("852", "PD", body_852),
        "846 (LIN per store, QTY + N1)": _envelope("846", "IB", body_846),
        "846 (SDQ on hand, QTY on order)": _envelope("846", "IB", body_sdq),
    }


def read(data: bytes) -> int:
    from smi_edi.x12.reader import X12Reader
    from smi_edi.x12.ts846 import Activity846
    from smi_edi.x12.ts852 import Activity852

    reader = X12Reader(data)
    segments = reader.segments()
    count = 0
    mapper = None
    stream = []
    for elements in segments:
        if elements[0] == "ST":
            mapper = Activity852() if elements[1] == "852" else Activity846()
        if mapper is not None:
            stream.append((elements, reader.segment_number))
    for _ in mapper.quantities(iter(stream)):
        count += 1
    assert not mapper.problems, mapper.problems[:3]
    return count


def best(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=900)
    parser.add_argument("--stores", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    from smi_edi.x12.validation import validate

    documents = files(args.items, args.stores)
    validate(_envelope("852", "PD", ["XQ*H*20261109*20261115"]))  # map tables compiled once
    rows = []
    for name, data in documents.items():
        read_s, quantities = best(lambda data=data: read(data), args.repeat)
        valid_s, results = best(lambda data=data: validate(data), args.repeat)
        status = results[0].sets[0].status.value
        rows.append((name, len(data) / 1e6, quantities, read_s, valid_s, status))
    ref_read, ref_valid = rows[0][3], rows[0][4]
    print(f"{args.items} items x {args.stores} stores, best of {args.repeat}")
    header = ("file", "MB", "quantities", "read+map s", "x 852", "validate s", "x 852", "verdict")
    print("{:<34} {:>6} {:>10} {:>10} {:>6} {:>10} {:>6} {:>7}".format(*header))
    for name, mb, quantities, read_s, valid_s, status in rows:
        print(
            f"{name:<34} {mb:>6.2f} {quantities:>10} {read_s:>10.3f} {read_s / ref_read:>6.2f} "
            f"{valid_s:>10.3f} {valid_s / ref_valid:>6.2f} {status:>7}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
