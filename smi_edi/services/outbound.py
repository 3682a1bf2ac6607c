"""Documents we send (855, 856): written in the partner's delimiters and version with
control numbers from its sequence, validated with our own maps before they leave, stored
raw, delivered by a task (outbox folder and/or HTTP POST, with retries), and matched to the
partner's 997/999.

A document that fails our validation is stored with its errors and status ``invalid`` and
never delivered; the order or shipment it belongs to shows why.

Retries live in the database, not in the task: a refused delivery leaves the document
queued with its attempts counted, and ``outbound_redeliver_due`` (Celery beat, every few
minutes) tries it again once its last attempt is older than the backoff (1 min doubling to
4 h). After DELIVERY_RETRIES retries the document is marked failed with an exception. This
works the same whether the first attempt ran in a worker or in-process (no broker).
"""

from __future__ import annotations

import logging
import os
import tempfile
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from smi_core.exceptions import ApplicationError
from smi_core.models import ReplenishmentProposal, SettlementInvoice, Shipment
from smi_core.services.audit import Actor, audit_record
from smi_core.services.exceptions import exception_raise
from smi_edi.models import DeliveryAttempt, OutboundDocument, TradingPartner
from smi_edi.services.as2 import (
    As2Error,
    As2Pending,
    as2_deliver_document,
    as2_mdn_overdue_check,
    partner_as2_url,
)
from smi_edi.services.control_numbers import DatabaseControlNumbers
from smi_edi.services.raw_store import raw_path, raw_store
from smi_edi.x12.reader import Delimiters
from smi_edi.x12.results import SetStatus
from smi_edi.x12.writer import InterchangeWriter, Party, isa_version

log = logging.getLogger(__name__)
D = OutboundDocument
FUNCTIONAL_IDS = {"855": "PR", "856": "SH", "850": "PO", "810": "IN"}
DELIVERY_RETRIES = 8  # after the first attempt, 1, 2, 4 ... 128 minutes apart
LOST_AFTER = timedelta(minutes=10)  # a document never tried by then lost its task


class ResendRefused(ApplicationError):
    """This document is not one we resend under new control numbers."""

    code = "resend_refused"


class DeliveryFailed(ApplicationError):
    """A channel did not take the document; the delivery task retries."""

    code = "delivery_failed"


class PartnerNotConfigured(ApplicationError):
    code = "partner_not_configured"


def partner_for(party) -> TradingPartner:
    partner = TradingPartner.objects.filter(party=party).first()
    if partner is None:
        raise PartnerNotConfigured(
            f"{party.code} has no trading partner profile (ISA id); add one with partner_add"
        )
    return partner


def delimiters_of(partner: TradingPartner) -> Delimiters:
    return Delimiters(
        element=partner.element_separator,
        component=partner.component_separator,
        segment=partner.segment_terminator,
        repetition=partner.repetition_separator or None,
    )


def outbound_create(
    *,
    sender: TradingPartner,
    partner: TradingPartner,
    set_id: str,
    segments: list[list],
    actor: Actor,
    order: ReplenishmentProposal | None = None,
    shipment: Shipment | None = None,
    settlement: SettlementInvoice | None = None,
    resent_from: OutboundDocument | None = None,
    now: datetime | None = None,
) -> OutboundDocument:
    """Write, validate and store one document; queue its delivery when it is valid."""
    version = partner.x12_version or "004010"
    functional_id = FUNCTIONAL_IDS[set_id]
    writer = InterchangeWriter(
        sender=Party(sender.isa_qualifier, sender.isa_id),
        receiver=Party(partner.isa_qualifier, partner.isa_id),
        control_numbers=DatabaseControlNumbers(partner.isa_key),
        delimiters=delimiters_of(partner),
        version=isa_version(version),
        now=now,
    )
    group = writer.begin_group(
        functional_id,
        sender_id=sender.gs_id or sender.isa_id,
        receiver_id=partner.gs_id or partner.isa_id,
        version=version,
    )
    st02 = writer.add_set(set_id, segments)
    data = writer.finish()
    return outbound_store(
        data=data,
        partner=partner,
        set_id=set_id,
        functional_id=functional_id,
        version=version,
        interchange_control_number=writer.interchange_control_number,
        group_control_number=group,
        set_control_number=st02,
        segments=segments,
        actor=actor,
        extra={
            "order": order,
            "shipment": shipment,
            "settlement": settlement,
            "resent_from": resent_from,
        },
    )


def outbound_store(
    *,
    data: bytes,
    partner: TradingPartner,
    set_id: str,
    functional_id: str,
    version: str,
    interchange_control_number: str,
    group_control_number: str,
    set_control_number: str,
    segments: list[list],
    actor: Actor,
    awaits_ack: bool = True,
    extra: dict | None = None,
) -> OutboundDocument:
    """Validate written bytes with our maps, store them, record the document (with who made
    it) and queue its delivery when it is valid; an invalid one is kept and not sent."""
    from smi_edi.x12.validation import validate

    results = validate(data)
    errors = [
        message
        for result in results
        for message in (
            list(result.interchange_errors)
            + [e for g in result.groups for s in g.sets for e in _sentences(s)]
        )
    ]
    valid = bool(results) and results[0].all_accepted
    stored = raw_store(data)
    extra = {k: v for k, v in (extra or {}).items() if v is not None}
    document = OutboundDocument.objects.create(
        partner=partner,
        set_id=set_id,
        functional_id=functional_id,
        version=version,
        interchange_control_number=interchange_control_number,
        group_control_number=group_control_number,
        set_control_number=set_control_number,
        segments=[[_text(v) for v in seg] for seg in segments],
        raw_file=stored.name,
        sha256=stored.sha256,
        size=stored.size,
        status=D.Status.QUEUED if valid else D.Status.INVALID,
        status_reason="" if valid else "failed our validation; not sent",
        validation_errors=errors if not valid else [],
        ack_status=D.AckStatus.AWAITING if valid and awaits_ack else D.AckStatus.NONE,
        created_by=f"{actor.type}:{actor.name}",
        **extra,
    )
    resent_from = extra.get("resent_from")
    acknowledges = extra.get("acknowledges")
    audit_record(
        actor=actor,
        action="outbound.create",
        object_type="outbound_document",
        object_id=document.pk,
        after={
            "set": set_id,
            "partner": partner.code,
            "isa13": document.interchange_control_number,
            "gs06": group_control_number,
            "st02": set_control_number,
            "status": document.status,
            "sha256": stored.sha256,
            "resent_from": resent_from.pk if resent_from else None,
            "acknowledges": acknowledges.pk if acknowledges else None,
        },
    )
    if valid:
        transaction.on_commit(lambda: outbound_enqueue(document.pk))
    return document


def _sentences(set_result) -> list[str]:
    if set_result.status is SetStatus.ACCEPTED:
        return []
    found = set_result.as_dict()
    messages = list(found["messages"])
    messages += [e["message"] for e in found["segment_errors"] if e["message"] not in messages]
    messages += [e["message"] for e in found["set_errors"] if e["message"] not in messages]
    return messages or [f"set {set_result.set_id} {set_result.status.label}"]


def _text(value) -> object:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return [_text(v) for v in value]
    return str(value)


def outbound_enqueue(document_id: int) -> None:
    from smi_edi.tasks import deliver_outbound

    deliver_outbound.delay(document_id)


# -- delivery -------------------------------------------------------------------------


def channels_for(partner: TradingPartner) -> list[tuple[str, str]]:
    """(channel, target) pairs: the partner's folder and/or endpoint; with neither, the
    default outbox folder SMI_OUTBOX_DIR/<code>."""
    channels = []
    if partner.outbox_dir:
        channels.append((DeliveryAttempt.Channel.FOLDER, partner.outbox_dir))
    if partner.endpoint_url:
        channels.append((DeliveryAttempt.Channel.HTTP, partner.endpoint_url))
    as2_url = partner_as2_url(partner)
    if as2_url:  # delivered only once the partner's MDN says processed with our MIC
        channels.append((DeliveryAttempt.Channel.AS2, as2_url))
    if not channels:
        channels.append(
            (DeliveryAttempt.Channel.FOLDER, str(Path(settings.SMI_OUTBOX_DIR) / partner.code))
        )
    return channels


def outbound_deliver(*, document_id: int) -> OutboundDocument:
    """Hand the document to every channel that has not taken it yet; raise DeliveryFailed
    (counted in ``attempts``; retried by ``outbound_redeliver_due``) when one refuses. Idempotent: a delivered document is left alone."""
    document = OutboundDocument.objects.select_related("partner__party").get(pk=document_id)
    if document.status != D.Status.QUEUED:
        return document
    data = raw_path(document.raw_file).read_bytes()
    done = set(document.delivery_attempts.filter(ok=True).values_list("channel", "target"))
    failures = []
    pending = []  # AS2 messages sent whose asynchronous MDN has not come yet
    tried = False
    for channel, target in channels_for(document.partner):
        if (channel, target) in done:
            continue
        try:
            if channel == DeliveryAttempt.Channel.AS2:
                try:
                    detail, status = _to_as2(document, data, target)
                except As2Pending as waiting:
                    pending.append(waiting.message_id)
                    tried = tried or waiting.sent_now
                    continue
            else:
                detail, status = (
                    _to_folder(document, data, target)
                    if channel == DeliveryAttempt.Channel.FOLDER
                    else _to_endpoint(document, data, target)
                )
            tried = True
            DeliveryAttempt.objects.create(
                document=document,
                channel=channel,
                target=target,
                ok=True,
                detail=detail,
                http_status=status,
            )
        except DeliveryFailed as exc:
            tried = True
            failures.append(f"{channel} {target}: {exc.message}")
            DeliveryAttempt.objects.create(
                document=document,
                channel=channel,
                target=target,
                ok=False,
                detail=exc.message,
                http_status=exc.extra.get("http_status"),
            )
    if tried:
        OutboundDocument.objects.filter(pk=document.pk).update(attempts=document.attempts + 1)
    if failures:
        raise DeliveryFailed("; ".join(failures))
    if pending:  # delivered when the MDN comes (smi_edi.services.as2.as2_mdn_receive)
        return document
    now = timezone.now()
    with transaction.atomic():
        document = OutboundDocument.objects.select_for_update().get(pk=document.pk)
        if document.status == D.Status.QUEUED:
            document.status = D.Status.SENT
            document.sent_at = now
            document.status_reason = ""
            document.ack_due_at = now + timedelta(hours=document.partner.ack_window_hours)
            document.save(update_fields=["status", "sent_at", "status_reason", "ack_due_at"])
    return document


def delivery_backoff(attempts: int) -> timedelta:
    """How long to wait after ``attempts`` failed tries before the next: 1 min, doubling,
    at most 4 h."""
    return min(timedelta(minutes=1) * 2 ** min(max(attempts - 1, 0), 16), timedelta(hours=4))


def retry_due(attempts: int, created_at: datetime, last_try: datetime | None, *, now) -> bool:
    """Whether a delivery (document or webhook) is due again: never tried and its task lost
    (older than LOST_AFTER), or its backoff since the last attempt has passed."""
    if attempts == 0 or last_try is None:
        return created_at + LOST_AFTER <= now
    return last_try + delivery_backoff(attempts) <= now


def outbound_attempt(*, document_id: int) -> str:
    """One delivery try (what the task runs). A refusal leaves the document queued for
    ``outbound_redeliver_due``; the one that uses up the retries marks it failed."""
    try:
        return outbound_deliver(document_id=document_id).status
    except DeliveryFailed as exc:
        attempts = OutboundDocument.objects.values_list("attempts", flat=True).get(pk=document_id)
        if attempts > DELIVERY_RETRIES:
            outbound_delivery_gave_up(document_id=document_id, reason=exc.message)
            return D.Status.FAILED
        return D.Status.QUEUED


def outbound_redeliver_due(*, now: datetime | None = None) -> list[int]:
    """Queue again every document still queued whose backoff has passed since its last
    attempt, and those never tried whose task was lost (older than LOST_AFTER)."""
    now = now or timezone.now()
    queued = (
        OutboundDocument.objects.filter(status=D.Status.QUEUED)
        .annotate(last_try=Max("delivery_attempts__at"))
        .only("pk", "attempts", "created_at")
        .order_by("pk")
    )
    due = [d.pk for d in queued if retry_due(d.attempts, d.created_at, d.last_try, now=now)]
    for document_id in due:
        outbound_enqueue(document_id)
    return due


def outbound_delivery_gave_up(*, document_id: int, reason: str) -> None:
    """The task used up its retries: the document shows it failed and why, and an
    exception asks someone to look."""
    with transaction.atomic():
        document = OutboundDocument.objects.select_for_update().get(pk=document_id)
        if document.status != D.Status.QUEUED:
            return
        document.status = D.Status.FAILED
        document.status_reason = f"delivery gave up: {reason}"[:2000]
        document.save(update_fields=["status", "status_reason"])
        exception_raise(
            kind="delivery_failed",
            partner=document.partner.party,
            subject=f"{document.set_id} ISA13 {document.interchange_control_number}",
            message=f"{document} could not be delivered: {reason}",
            action="Fix the partner's folder or endpoint, then resend the document from the "
            "admin (Outbound documents -> resend).",
        )


def _to_folder(document: OutboundDocument, data: bytes, target: str) -> tuple[str, None]:
    folder = Path(target)
    name = f"{document.set_id}-{document.partner.code}-{document.interchange_control_number}.x12"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=folder, prefix=".sending-")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, folder / name)  # the partner's gateway never sees half a file
    except OSError as exc:
        raise DeliveryFailed(f"cannot write {folder / name}: {exc.strerror or exc}") from exc
    return f"wrote {folder / name}", None


def _to_as2(document: OutboundDocument, data: bytes, url: str) -> tuple[str, int]:
    try:
        return as2_deliver_document(document=document, data=data)
    except As2Error as exc:
        raise DeliveryFailed(
            exc.message, extra={"http_status": exc.extra.get("http_status")}
        ) from exc


def _to_endpoint(document: OutboundDocument, data: bytes, url: str) -> tuple[str, int]:
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={
            "Content-Type": "application/edi-x12",
            "X-SMI-Document": str(document.pk),
            "X-SMI-Control-Number": document.interchange_control_number,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.SMI_HTTP_TIMEOUT) as response:
            return f"HTTP {response.status}", response.status
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(
            f"HTTP {exc.code} {exc.reason}", extra={"http_status": exc.code}
        ) from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryFailed(f"no answer from {url}: {reason}") from exc


# -- resending and acknowledgments ---------------------------------------------------------


def outbound_resend(*, document_id: int, actor: Actor) -> OutboundDocument:
    """Send the same content again under new control numbers; the new document points to
    the one it replaces, and both the resend and who asked for it are recorded."""
    with transaction.atomic():
        original = OutboundDocument.objects.select_related("partner").get(pk=document_id)
        if original.acknowledges_id is not None:
            raise ResendRefused(
                "a 997/999 is sent once, as our verdict on the partner's interchange; "
                "if its delivery failed, deliver it again instead"
            )
        sender = _sender_of(original)
        document = outbound_create(
            sender=sender,
            partner=original.partner,
            set_id=original.set_id,
            segments=original.segments,
            actor=actor,
            order=original.order,
            shipment=original.shipment,
            settlement=original.settlement,
            resent_from=original,
        )
        if original.settlement_id:  # the settlement's current 810 is the new one
            SettlementInvoice.objects.filter(pk=original.settlement_id).update(document=document)
        audit_record(
            actor=actor,
            action="outbound.resend",
            object_type="outbound_document",
            object_id=original.pk,
            after={"new_document": document.pk, "isa13": document.interchange_control_number},
        )
    return document


def _sender_of(document: OutboundDocument) -> TradingPartner:
    carrier = document.order or document.shipment or document.settlement
    if carrier is None:
        raise PartnerNotConfigured(
            f"document #{document.pk} belongs to no order, shipment or settlement"
        )
    party = carrier.supplier
    return partner_for(party)


def outbound_overdue_check(*, now: datetime | None = None) -> int:
    """Flag delivered documents whose 997/999 did not come within the partner's window."""
    now = now or timezone.now()
    as2_mdn_overdue_check(now=now)  # AS2 messages whose MDN never came: shown overdue
    late = OutboundDocument.objects.filter(
        status=D.Status.SENT, ack_status=D.AckStatus.AWAITING, ack_due_at__lt=now
    ).select_related("partner__party")
    count = 0
    for document in late:
        with transaction.atomic():
            updated = OutboundDocument.objects.filter(
                pk=document.pk, ack_status=D.AckStatus.AWAITING
            ).update(ack_status=D.AckStatus.OVERDUE)
            if not updated:
                continue
            count += 1
            exception_raise(
                kind="ack_overdue",
                partner=document.partner.party,
                subject=f"{document.set_id} ISA13 {document.interchange_control_number}",
                message=(
                    f"{document.partner.code} has not acknowledged our {document.set_id} "
                    f"(ISA13 {document.interchange_control_number}, GS06 "
                    f"{document.group_control_number}) within {document.partner.ack_window_hours} h."
                ),
                action="Ask the partner whether it received the document, or resend it from "
                "the admin (Outbound documents -> resend).",
            )
    return count
