"""Validation of X12 interchanges (interim: envelope checks only, until the map validation lands)."""

from __future__ import annotations

from .envelope_results import results_from_envelopes
from .reader import Source, X12Reader
from .results import InterchangeResult


def validate(source: Source, *, map_path=None) -> list[InterchangeResult]:
    reader = X12Reader(source)
    reader.read_all()
    return results_from_envelopes(reader)
