"""Control numbers that never repeat for a partner, also under concurrent writers."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from smi_core.exceptions import ApplicationError
from smi_edi.models import ControlNumberSequence

MAX_CONTROL_NUMBER = 999_999_999  # ISA13 and GS06 are at most nine digits


class ControlNumbersExhausted(ApplicationError):
    code = "control_numbers_exhausted"


def control_number_next(*, partner_key: str, kind: str, count: int = 1) -> int:
    """Reserve ``count`` consecutive numbers and return the first.

    Runs in its own transaction (or the caller's) and locks the sequence row, so two
    processes asking at once get different numbers; a rolled-back caller leaves a gap,
    never a repeat.
    """
    if kind not in ControlNumberSequence.Kind.values:
        raise ValueError(f"unknown control number kind {kind!r}")
    with transaction.atomic():
        _ensure_row(partner_key, kind)
        sequence = ControlNumberSequence.objects.select_for_update().get(
            partner_key=partner_key, kind=kind
        )
        first = sequence.last_value + 1
        last = sequence.last_value + count
        if last > MAX_CONTROL_NUMBER:
            raise ControlNumbersExhausted(
                f"control numbers for {partner_key} ({kind}) are used up at {sequence.last_value}; "
                "agree a reset with the partner before sending more",
            )
        sequence.last_value = last
        sequence.save(update_fields=["last_value", "updated_at"])
    return first


def _ensure_row(partner_key: str, kind: str) -> None:
    if ControlNumberSequence.objects.filter(partner_key=partner_key, kind=kind).exists():
        return
    try:
        with transaction.atomic():
            ControlNumberSequence.objects.create(partner_key=partner_key, kind=kind)
    except IntegrityError:
        pass  # another writer created it first


class DatabaseControlNumbers:
    """Per-partner control numbers from the database, for the X12 writer."""

    def __init__(self, partner_key: str):
        self.partner_key = partner_key

    def next_interchange(self) -> int:
        return control_number_next(
            partner_key=self.partner_key, kind=ControlNumberSequence.Kind.INTERCHANGE
        )

    def next_group(self) -> int:
        return control_number_next(
            partner_key=self.partner_key, kind=ControlNumberSequence.Kind.GROUP
        )

    def next_set(self) -> int:
        return control_number_next(
            partner_key=self.partner_key, kind=ControlNumberSequence.Kind.SET
        )
