"""What runs after inventory positions change: planning registers itself here.

A registry instead of signals keeps the call explicit: the 852 ingestion calls
``positions_changed`` once per interchange with every item-location it changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)

PositionsListener = Callable[..., None]
_listeners: list[PositionsListener] = []


def on_positions_changed(listener: PositionsListener) -> PositionsListener:
    """Register ``listener(item_location_pairs=..., source=...)``; usable as a decorator."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def positions_changed(*, item_location_pairs: Iterable[tuple[int, int]], source: str) -> None:
    pairs = set(item_location_pairs)
    log.info("%d item-locations changed by %s", len(pairs), source)
    for listener in list(_listeners):
        listener(item_location_pairs=pairs, source=source)
