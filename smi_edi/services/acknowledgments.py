"""The 997/999 we send back for an inbound interchange, in the partner's delimiters and
version, with control numbers from the partner's sequence."""

from __future__ import annotations

from dataclasses import replace

from smi_core.services.audit import Actor
from smi_edi.models import Interchange
from smi_edi.services.control_numbers import DatabaseControlNumbers
from smi_edi.services.raw_store import raw_path
from smi_edi.x12.reader import X12Reader
from smi_edi.x12.results import InterchangeResult


def acknowledgment_documents(
    *, interchange: Interchange, results: list[InterchangeResult]
) -> list[str]:
    """One 997/999 interchange per inbound interchange that has groups to answer."""
    from smi_edi.x12.acks import acknowledgment_for

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
    return [d.decode() if isinstance(d, bytes) else d for d in documents]


def acknowledgments_send(*, interchange: Interchange, documents: list[str], actor: Actor) -> list:
    """Store each 997/999 as an outbound document and queue its delivery to the partner
    (its folder and/or endpoint, as for 855/856), once per inbound interchange: a
    reprocessed interchange is not acknowledged twice. A 997/999 that fails our own
    validation is kept, marked invalid, and not sent."""
    from smi_edi.models import OutboundDocument
    from smi_edi.services.outbound import outbound_store

    if interchange.sender is None or interchange.acknowledgments_sent.exists():
        return []
    sent = []
    for text in documents:
        data = text.encode("latin-1", "replace")
        with X12Reader(data) as reader:
            body, set_id = [], ""
            for elements in reader.segments():
                if elements[0] == "ST":
                    set_id = elements[1]
                elif elements[0] not in _ENVELOPE and reader.current_set is not None:
                    body.append(elements)
            summary = reader.interchanges[0]
        group = summary.groups[0]
        sent.append(
            outbound_store(
                data=data,
                partner=interchange.sender,
                set_id=set_id,
                functional_id="FA",
                version=group.version,
                interchange_control_number=summary.control_number,
                group_control_number=group.control_number,
                set_control_number=",".join(s.control_number for s in group.sets),
                segments=body,
                actor=actor,
                awaits_ack=False,
                extra={"acknowledges": interchange},
            )
        )
    return [d for d in sent if isinstance(d, OutboundDocument)]


_ENVELOPE = {"ISA", "GS", "ST", "SE", "GE", "IEA"}
