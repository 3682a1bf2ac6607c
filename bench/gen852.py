"""Generate realistic 852 product activity files of a given size (benchmarks only).

Each item is one LIN loop with five ZA activity codes; each ZA carries no quantity of its
own and spreads store-level quantities over SDQ segments of ten stores each, as large
retailers send them. Deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

ACTIVITY_CODES = ("QA", "QS", "QP", "QI", "QC")
HEADER = (
    "ISA*00*          *00*          *ZZ*DEMOBUYER      *ZZ*SMIHUB         *261120*0800*U*00401*"
    "{control:09d}*0*P*>~\n"
    "GS*PD*DEMOBUYER*SMIHUB*20261120*0800*{control}*X*004010~\n"
    "ST*852*0001~XQ*H*{start:%Y%m%d}*{end:%Y%m%d}~N1*BY*Demo Buyer*92*DEMOBUYER~"
    "N1*ST*Demo DC*92*DC01~\n"
)
FIRST_WEEK_END = date(2026, 11, 15)


def write_852(
    path: Path,
    megabytes: float | None = None,
    *,
    items: int | None = None,
    stores: int = 100,
    seed: int = 1,
    week: int = 1,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Write an 852 of about ``megabytes`` MB, or of exactly ``items`` items; return what it
    holds. ``week``: the report's week (1 ends on 2026-11-15), also its ISA/GS control number.
    ``progress(n)`` hears of each ``n`` bytes written (a progress bar's advance)."""
    end = FIRST_WEEK_END + timedelta(weeks=week - 1)
    header = HEADER.format(control=week, start=end - timedelta(days=6), end=end)
    target = int(megabytes * 1_000_000) if megabytes is not None else None
    limit = items
    rnd = random.Random(seed)
    segments = 5  # ST, XQ, N1, N1 ... counted with ST
    size = 0
    items = 0
    quantities = 0
    with open(path, "w", encoding="ascii", newline="") as out:
        out.write(header)
        size += len(header)
        segments = 4
        while (target is None or size < target) and (limit is None or items < limit):
            items += 1
            parts = [f"LIN**UP*{items:012d}*VN*V-{items:06d}~"]
            for code in ACTIVITY_CODES:
                parts.append(f"ZA*{code}**EA~")
                for first in range(0, stores, 10):
                    pairs = "*".join(
                        f"S{s:04d}*{rnd.randint(0, 250)}"
                        for s in range(first, min(first + 10, stores))
                    )
                    parts.append(f"SDQ*EA*92*{pairs}~")
                    quantities += min(10, stores - first)
            text = "".join(parts) + "\n"
            out.write(text)
            size += len(text)
            segments += len(parts)
            if progress is not None:
                progress(len(text))
        trailer = f"CTT*{items}~SE*{segments + 2}*0001~GE*1*{week}~IEA*1*{week:09d}~\n"
        out.write(trailer)
    return {
        "items": items,
        "stores": stores,
        "quantities": quantities,
        "bytes": path.stat().st_size,
    }


def main() -> None:
    """``python bench/gen852.py FILE --mb 50``: write one file, with a progress bar."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--mb", type=float, help="about this many MB")
    size.add_argument("--items", type=int, help="exactly this many items")
    parser.add_argument("--stores", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--week", type=int, default=1)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from smi_core.cli_output import progress_bar

    total = int(args.mb * 1_000_000) if args.mb else None
    with progress_bar(sys.stderr, f"writing {args.path.name}", total, unit="MB") as advance:
        info = write_852(
            args.path,
            args.mb,
            items=args.items,
            stores=args.stores,
            seed=args.seed,
            week=args.week,
            progress=advance,
        )
    print(
        f"{args.path}: {info['bytes'] / 1e6:.1f} MB, {info['items']:,} items, "
        f"{info['quantities']:,} store quantities"
    )


if __name__ == "__main__":
    main()
