"""The 997/999 we send back for an inbound interchange, in the partner's delimiters and
version, with control numbers from the partner's sequence."""

from __future__ import annotations

from dataclasses import replace

from smi_edi.models import Interchange
from smi_edi.services.control_numbers import DatabaseControlNumbers
from smi_edi.services.raw_store import raw_path
from smi_edi.x12.results import InterchangeResult


def acknowledgment_build(*, interchange: Interchange, results: list[InterchangeResult]) -> str:
    """Write the acknowledgment for ``interchange`` (997, or 999 where the partner asks)."""
    from smi_edi.x12.acks import acknowledgment_for
    from smi_edi.x12.reader import X12Reader

    partner = interchange.sender
    with X12Reader(raw_path(interchange.raw_file)) as reader:
        delimiters = reader.delimiters
    # Acknowledgments are not acknowledged (X12.20): FA groups get no 997/999 back.
    answerable = []
    for result in results:
        groups = [g for g in result.groups if g.functional_id != "FA"]
        if groups:
            answerable.append(replace(result, groups=groups))
    documents = [
        acknowledgment_for(
            result,
            ack_type=partner.ack_type,
            delimiters=delimiters,
            control_numbers=DatabaseControlNumbers(partner.isa_key),
            usage=result.usage,
        )
        for result in answerable
    ]
    return "".join(d.decode() if isinstance(d, bytes) else d for d in documents)
