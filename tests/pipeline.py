"""Helpers to put files through the real ingestion pipeline in tests."""

from __future__ import annotations

from datetime import date, timedelta

from smi_edi.models import Interchange
from smi_edi.services.interchanges import interchange_enqueue, interchange_receive
from tests.x12_builders import interchange, report_852


def ingest(data: bytes, name: str = "test.edi") -> Interchange:
    """Receive and process (eagerly, in tests) one file; return its interchange."""
    received = interchange_receive(source=data, transport="cli", source_name=name, actor="test")
    interchange_enqueue(received)
    received.refresh_from_db()
    return received


def weekly_history(
    sales: dict[tuple[str, str], list[int]],
    *,
    on_hand: dict[tuple[str, str], int],
    last_week_end: date,
    control_start: int = 1,
) -> list[Interchange]:
    """One 852 per week ending on Sundays up to ``last_week_end``: for each (vendor item,
    store) its sales that week, and in the last week its on-hand quantity."""
    weeks = len(next(iter(sales.values())))
    done = []
    for w in range(weeks):
        end = last_week_end - timedelta(weeks=weeks - 1 - w)
        start = end - timedelta(days=6)
        lines = []
        for vendor_item in sorted({v for v, _ in sales}):
            stores = sorted(s for v, s in sales if v == vendor_item)
            segments = [
                "ZA*QS**EA",
                "SDQ*EA*92*" + "*".join(f"{s}*{sales[(vendor_item, s)][w]}" for s in stores),
            ]
            stock = [f"{s}*{on_hand.get((vendor_item, s), 0)}" for s in stores]
            segments += ["ZA*QA**EA", "SDQ*EA*92*" + "*".join(stock)]
            lines.append((f"VN*{vendor_item}", segments))
        body = report_852(f"{start:%Y%m%d}", f"{end:%Y%m%d}", lines=lines)
        done.append(ingest(interchange([body], control=control_start + w)))
    return done
