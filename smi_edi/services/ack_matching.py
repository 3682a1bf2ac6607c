"""A partner's 997/999 matched to what we sent: AK1 names our group (GS01, GS06), AK2 our
set (ST01, ST02); each document it answers shows accepted, accepted with errors or
rejected with the partner's reasons. An acknowledgment that answers nothing we sent opens
an exception instead of vanishing."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from smi_core.services.exceptions import exception_raise
from smi_edi.models import Interchange, OutboundDocument
from smi_edi.services.raw_store import raw_path
from smi_edi.x12.acks import AckedGroup, parse_ack
from smi_edi.x12.results import SetStatus

D = OutboundDocument
_STATUS = {
    SetStatus.ACCEPTED: D.AckStatus.ACCEPTED,
    SetStatus.ACCEPTED_WITH_ERRORS: D.AckStatus.ACCEPTED_WITH_ERRORS,
    SetStatus.REJECTED: D.AckStatus.REJECTED,
}


def acknowledgments_apply(*, interchange: Interchange) -> int:
    """Apply every 997/999 in ``interchange`` to our documents; return how many documents
    it answered. Applying the same acknowledgment again changes nothing."""
    partner = interchange.sender
    answered = 0
    for ack in parse_ack(raw_path(interchange.raw_file)):
        for group in ack.groups:
            documents = _documents_for(partner, group)
            if not documents:
                exception_raise(
                    kind="unmatched_ack",
                    partner=partner.party,
                    subject=f"{ack.ack_type} for {group.functional_id} GS06 {group.control_number}",
                    message=(
                        f"{partner.code}'s {ack.ack_type} (interchange #{interchange.pk}, ISA13 "
                        f"{ack.interchange_control}) answers group {group.functional_id} "
                        f"{group.control_number}, which we never sent to it."
                    ),
                    action="Check the partner's AK1 against our outbound documents; it may "
                    "be acknowledging another trading partner's group.",
                )
                continue
            for document in documents:
                answered += _apply(document, group, interchange)
    return answered


def _documents_for(partner, group: AckedGroup) -> list[OutboundDocument]:
    candidates = OutboundDocument.objects.filter(
        partner=partner, functional_id=group.functional_id
    ).exclude(status=D.Status.INVALID)
    number = group.control_number.lstrip("0") or "0"
    return [d for d in candidates.filter(group_control_number=number)]


def _apply(document: OutboundDocument, group: AckedGroup, interchange: Interchange) -> int:
    verdict = group.set_status(document.set_id, document.set_control_number)
    reasons = list(group.errors) + list(group.inconsistencies)
    for acked in group.sets:
        if acked.set_id == document.set_id and (
            acked.control_number.lstrip("0") == document.set_control_number.lstrip("0")
        ):
            reasons = list(acked.errors) + reasons
    if verdict is None:
        # AK9 P with no AK2 for our set: the partner did not say which sets it took.
        reasons.append("the partner accepted part of the group without saying which sets; ask it")
        status = D.AckStatus.ACCEPTED_WITH_ERRORS
    else:
        status = _STATUS.get(verdict, D.AckStatus.ACCEPTED_WITH_ERRORS)
    with transaction.atomic():
        locked = OutboundDocument.objects.select_for_update().get(pk=document.pk)
        if locked.ack_interchange_id == interchange.pk:
            return 0
        locked.ack_status = status
        locked.ack_errors = reasons
        locked.ack_interchange = interchange
        locked.acked_at = timezone.now()
        locked.save(update_fields=["ack_status", "ack_errors", "ack_interchange", "acked_at"])
        if status == D.AckStatus.REJECTED:
            exception_raise(
                kind="document_rejected",
                partner=locked.partner.party,
                subject=f"{locked.set_id} ISA13 {locked.interchange_control_number}",
                message=(
                    f"{locked.partner.code} rejected our {locked.set_id} (ISA13 "
                    f"{locked.interchange_control_number}, ST02 {locked.set_control_number}): "
                    + ("; ".join(reasons) or "no reason given")
                ),
                action="Correct the order or shipment data, then resend the document from the "
                "admin (Outbound documents -> resend).",
            )
    return 1
