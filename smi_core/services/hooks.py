"""What runs after inventory positions change: planning registers itself here.

A registry instead of signals keeps the call explicit: the 852 ingestion calls
``positions_changed`` once per interchange with every item-location it changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

PositionsListener = Callable[..., None]
_listeners: list[PositionsListener] = []


def on_positions_changed(listener: PositionsListener) -> PositionsListener:
    """Register ``listener(item_location_pairs=..., source=...)``; usable as a decorator."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


@contextmanager
def positions_listener_suspended(listener: PositionsListener) -> Iterator[None]:
    """Leave ``listener`` out while the block runs (``demo_load`` ingests its fixed sample
    weeks without planning each as of today, then plans once as of their date)."""
    registered = listener in _listeners
    if registered:
        _listeners.remove(listener)
    try:
        yield
    finally:
        if registered and listener not in _listeners:
            _listeners.append(listener)


def positions_changed(*, item_location_pairs: Iterable[tuple[int, int]], source: str) -> None:
    pairs = set(item_location_pairs)
    log.info("%d item-locations changed by %s", len(pairs), source)
    for listener in list(_listeners):
        listener(item_location_pairs=pairs, source=source)


OrderListener = Callable[..., None]
_order_listeners: list[OrderListener] = []


def on_order_event(listener: OrderListener) -> OrderListener:
    """Register ``listener(event=..., order_id=...)``: the EDI app announces approved orders
    to the supplier's ERP from here."""
    if listener not in _order_listeners:
        _order_listeners.append(listener)
    return listener


def order_event(*, event: str, order_id: int) -> None:
    for listener in list(_order_listeners):
        listener(event=event, order_id=order_id)


AgreementListener = Callable[..., None]
_agreement_listeners: list[AgreementListener] = []


def on_agreements_changed(listener: AgreementListener) -> AgreementListener:
    """Register ``listener(agreement_ids=...)``: the assistant re-indexes their clauses."""
    if listener not in _agreement_listeners:
        _agreement_listeners.append(listener)
    return listener


def agreements_changed(*, agreement_ids: Iterable[int]) -> None:
    ids = sorted(set(agreement_ids))
    for listener in list(_agreement_listeners):
        listener(agreement_ids=ids)


SettlementListener = Callable[..., None]
_settlement_listeners: list[SettlementListener] = []


def on_settlement_event(listener: SettlementListener) -> SettlementListener:
    """Register ``listener(event=..., invoice_id=...)``: the EDI app sends the 810 of an
    issued settlement from here, inside the issuing transaction (an 810 that fails our
    validation raises, and nothing is issued)."""
    if listener not in _settlement_listeners:
        _settlement_listeners.append(listener)
    return listener


def settlement_event(*, event: str, invoice_id: int) -> None:
    for listener in list(_settlement_listeners):
        listener(event=event, invoice_id=invoice_id)
