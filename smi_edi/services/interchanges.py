"""Inbound interchanges: receive (store the bytes first), then process (read, validate,
acknowledge, apply each accepted set atomically: 852 product activity (and 846 inventory
advice, read into the same records), 850 purchase orders
linked to our approved orders, and the partner's 997/999 matched to what we sent).

Processing is idempotent: a set that was applied is never applied again, a file or ISA
control number seen before is flagged as a duplicate and not applied, and running the
processing again after a crash reaches the same result.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from smi_core.exceptions import ApplicationError
from smi_core.models import ProductActivity
from smi_core.services.activity import ApplyOutcome, activity_apply_852
from smi_core.services.audit import Actor
from smi_core.services.exceptions import exception_raise
from smi_core.services.hooks import positions_changed
from smi_edi.models import (
    InboundSet,
    Interchange,
    InterchangeStatusChange,
    RefusedInterchange,
    TradingPartner,
)
from smi_edi.services.acknowledgments import acknowledgment_documents, acknowledgments_send
from smi_edi.services.raw_store import TooLarge, raw_path, raw_store
from smi_edi.x12.errors import X12SyntaxError, X12WriteError
from smi_edi.x12.reader import X12Reader
from smi_edi.x12.results import GROUP_ERROR_TEXT, InterchangeResult, SetStatus

log = logging.getLogger(__name__)
S = Interchange.Status

# The allowed status changes, in one place.
TRANSITIONS: dict[str, set[str]] = {
    S.RECEIVED: {S.VALIDATED, S.REJECTED, S.FAILED},
    S.VALIDATED: {S.ACCEPTED, S.ACCEPTED_WITH_ERRORS, S.REJECTED, S.FAILED},
    S.ACCEPTED: {S.APPLIED, S.FAILED},
    S.ACCEPTED_WITH_ERRORS: {S.APPLIED, S.FAILED},
    S.FAILED: {S.RECEIVED},  # reprocess
    S.APPLIED: set(),
    S.REJECTED: set(),
}


class InterchangeRefused(ApplicationError):
    """The bytes cannot be taken in at all (not X12, too large, empty)."""

    code = "interchange_refused"


class PayloadTooLarge(InterchangeRefused):
    code = "payload_too_large"
    http_status = 413


class SenderMismatch(ApplicationError):
    code = "sender_mismatch"
    http_status = 403


@dataclass(frozen=True, slots=True)
class ProcessSummary:
    interchange_id: int
    status: str
    sets_accepted: int
    sets_rejected: int
    activity_rows: int
    positions_changed: int


def interchange_receive(
    *,
    source: bytes | IO[bytes],
    transport: str,
    source_name: str = "",
    actor: str,
    submitted_by=None,
    as_partner: TradingPartner | None = None,
) -> Interchange:
    """Store the bytes unchanged and record the interchange (status received).

    ``as_partner``: the authenticated partner; the ISA sender must be its own id. Otherwise
    the attempt is recorded apart (a ``RefusedInterchange``, seen by operators only) and
    refused: it never becomes an interchange of the partner it names, so it can neither
    shadow that partner's real file as a "duplicate" nor show in its list. A folder file
    received again under the same name with the same content returns the interchange already
    recorded (a crash between storing and moving the file must not double it).
    """
    limit = settings.SMI_X12_MAX_UPLOAD_BYTES
    try:
        stored = raw_store(source, max_bytes=limit)
    except TooLarge as exc:
        raise PayloadTooLarge(
            f"the file is larger than the limit of {limit} bytes; split it into several interchanges",
            extra={"limit": limit},
        ) from exc
    if stored.size == 0:
        raise InterchangeRefused("the file is empty")
    try:
        isa = X12Reader(stored.head + b"\n").isa
    except X12SyntaxError as exc:
        raise InterchangeRefused(f"not an X12 interchange: {exc.message}", code="not_x12") from exc

    sender_isa = f"{isa[5]}:{isa[6]}"
    receiver_isa = f"{isa[7]}:{isa[8]}"
    if as_partner is not None and (as_partner.isa_qualifier, as_partner.isa_id) != (
        isa[5],
        isa[6],
    ):
        mismatch = (
            f"partner {as_partner.code} ({as_partner.isa_key}) submitted an interchange "
            f"whose ISA sender is {sender_isa}; a partner may send only as itself"
        )
        attempt = RefusedInterchange.objects.create(
            transport=transport,
            source_name=source_name[:255],
            sha256=stored.sha256,
            size=stored.size,
            raw_file=stored.name,
            submitted_by=submitted_by,
            submitted_as=as_partner,
            sender_isa=sender_isa[:18],
            receiver_isa=receiver_isa[:18],
            control_number=isa[13][:9],
            reason=mismatch,
        )
        log.warning("refused attempt #%s: %s", attempt.pk, mismatch)
        raise SenderMismatch(mismatch, extra={"refused_attempt": attempt.pk})

    if transport == Interchange.Transport.FOLDER and source_name:
        existing = Interchange.objects.filter(
            transport=transport, source_name=source_name, sha256=stored.sha256
        ).first()
        if existing is not None:
            return existing

    with transaction.atomic():
        interchange = Interchange.objects.create(
            transport=transport,
            source_name=source_name[:255],
            sha256=stored.sha256,
            size=stored.size,
            raw_file=stored.name,
            submitted_by=submitted_by,
            sender=as_partner or _partner(isa[5], isa[6]),
            receiver=_partner(isa[7], isa[8]),
            sender_isa=sender_isa,
            receiver_isa=receiver_isa,
            control_number=isa[13][:9],
            version=isa[12][:5],
        )
        _status_change(interchange, "", S.RECEIVED, actor, f"{stored.size} bytes via {transport}")
    return interchange


def interchange_enqueue(interchange: Interchange) -> None:
    """Hand the interchange to a worker once the transaction that recorded it commits."""
    from smi_edi.tasks import ingest_interchange

    interchange_id = interchange.pk
    transaction.on_commit(lambda: ingest_interchange.delay(interchange_id))


def interchange_process(*, interchange_id: int, actor: str) -> ProcessSummary:
    """Validate, acknowledge and apply one interchange, then queue what it owes (planning).
    Safe to run again at any point: a run after a crash resumes where the last one stopped,
    including the follow-ups of an interchange applied but not finished (``processed_at``
    empty)."""
    interchange = Interchange.objects.get(pk=interchange_id)
    if interchange.status == S.REJECTED:
        return _summary(interchange)
    if interchange.status == S.APPLIED:
        if interchange.processed_at is None:  # the apply committed, its follow-ups did not
            _finish(interchange, changed_pairs=None)
        return _summary(interchange)
    Interchange.objects.filter(pk=interchange_id).update(attempts=interchange.attempts + 1)
    if interchange.status == S.FAILED:
        _set_status(interchange, S.RECEIVED, actor, "processing again")
    if interchange.status == S.RECEIVED:
        _validate(interchange, actor)
        interchange.refresh_from_db()
    if interchange.status in (S.ACCEPTED, S.ACCEPTED_WITH_ERRORS):
        _apply(interchange, actor)
    return _summary(interchange)


def interchange_fail(*, interchange_id: int, actor: str, reason: str) -> None:
    """Leave a visible failed state with the reason (a task that gave up)."""
    interchange = Interchange.objects.get(pk=interchange_id)
    if S.FAILED in TRANSITIONS.get(interchange.status, set()):
        _set_status(interchange, S.FAILED, actor, reason)


def interchange_reprocess(*, interchange: Interchange, actor: str) -> None:
    """Run a failed interchange again (admin action, CLI)."""
    if interchange.status != S.FAILED:
        raise ApplicationError(
            f"interchange #{interchange.pk} is {interchange.get_status_display().lower()}; "
            "only failed interchanges are processed again",
            code="not_failed",
        )
    interchange_enqueue(interchange)


# -- steps ------------------------------------------------------------------------------


def _validate(interchange: Interchange, actor: str) -> None:
    from smi_edi.x12.validation import validate

    path = raw_path(interchange.raw_file)
    try:
        results = validate(path)
    except X12SyntaxError as exc:
        _set_status(interchange, S.REJECTED, actor, f"not readable as X12: {exc.message}")
        interchange.errors = _storable(
            [{"message": exc.message, "offset": exc.offset, "segment": exc.segment_number}]
        )
        interchange.save(update_fields=["errors"])
        return

    with transaction.atomic():
        interchange = Interchange.objects.select_for_update().get(pk=interchange.pk)
        if interchange.status != S.RECEIVED:
            return  # another worker got here first
        _set_status(interchange, S.VALIDATED, actor, "read and validated")
        refusal = _envelope_refusal(interchange, results)
        interchange.validation = _storable([r.as_dict() for r in results])
        interchange.errors = _storable(_error_list(results))
        counts = {"accepted": 0, "rejected": 0}
        for result in results:
            for group in result.groups:
                for set_result in group.sets:
                    accepted = set_result.status in (
                        SetStatus.ACCEPTED,
                        SetStatus.ACCEPTED_WITH_ERRORS,
                    )
                    accepted = accepted and group.status is not SetStatus.REJECTED and not refusal
                    counts["accepted" if accepted else "rejected"] += 1
                    # Envelope values cut to the columns' sizes (a GS08 of 15 characters is
                    # rejected, but recorded); the whole values stay in ``validation``.
                    InboundSet.objects.update_or_create(
                        interchange=interchange,
                        first_segment=set_result.first_segment_number or 0,
                        defaults={
                            "functional_id": group.functional_id[:2],
                            "group_control_number": group.control_number[:9],
                            "version": group.version[:12],
                            "set_id": set_result.set_id[:3],
                            "control_number": set_result.control_number[:9],
                            "status": set_result.status.label if accepted else "rejected",
                            "errors": _storable(
                                set_result.as_dict()["segment_errors"]
                                + set_result.as_dict()["set_errors"]
                            ),
                        },
                    )
        interchange.sets_accepted = counts["accepted"]
        interchange.sets_rejected = counts["rejected"]
        acknowledgments = []
        unanswerable = None
        if refusal is None and interchange.sender is not None:
            try:
                with transaction.atomic():  # control numbers taken for an ack not written go back
                    acknowledgments = acknowledgment_documents(
                        interchange=interchange, results=results
                    )
            except X12WriteError as exc:
                # What the partner sent cannot be repeated in our answer: reject, say why.
                unanswerable = (
                    f"our {interchange.sender.ack_type} cannot be written from what was "
                    f"sent: {exc}; nothing was applied"
                )
                interchange.errors.append({"level": "interchange", "message": unanswerable})
            interchange.ack = "".join(acknowledgments)
        interchange.save(
            update_fields=["validation", "errors", "sets_accepted", "sets_rejected", "ack"]
        )
        if acknowledgments:  # stored and queued for the partner, once per interchange
            acknowledgments_send(
                interchange=interchange,
                documents=acknowledgments,
                actor=Actor("system", actor),
            )
        if refusal is not None:
            _set_status(interchange, S.REJECTED, actor, refusal)
        elif unanswerable is not None:
            _set_status(interchange, S.REJECTED, actor, unanswerable)
        elif counts["accepted"] == 0:
            _set_status(interchange, S.REJECTED, actor, _no_set_accepted(results))
        elif counts["rejected"] or any(not r.all_accepted for r in results):
            _set_status(
                interchange, S.ACCEPTED_WITH_ERRORS, actor, f"{counts['rejected']} set(s) rejected"
            )
        else:
            _set_status(interchange, S.ACCEPTED, actor, f"{counts['accepted']} set(s) accepted")


def _no_set_accepted(results: list[InterchangeResult]) -> str:
    """The reason for a rejection where no set was accepted, naming what rejected the
    groups (a bad GS element, a broken trailer) when that is the cause."""
    reasons = [
        message
        for result in results
        for group in result.groups
        if group.status is SetStatus.REJECTED
        for message in [*group.messages, *(GROUP_ERROR_TEXT.get(c, c) for c in group.group_errors)]
    ]
    if not reasons:
        return "no transaction set was accepted"
    shown = "; ".join(dict.fromkeys(reasons))
    return f"no transaction set was accepted: the group was rejected ({shown})"[:2000]


def _envelope_refusal(interchange: Interchange, results: list[InterchangeResult]) -> str | None:
    """Reasons to take nothing from this interchange: unknown parties, a duplicate.

    Runs inside the transaction that moves the interchange past validation. The last step
    claims the interchange as the one to apply for its sender, receiver and ISA13
    (``claimed_at``); the database allows one claim per key, so of copies processed at once
    exactly one wins and the others become duplicates of it, whatever their queries saw.
    Only interchanges accepted as coming from their sender claim anything: refused attempts
    are not interchanges at all (see ``interchange_receive``).
    """
    if interchange.receiver is None or not interchange.receiver.party.is_supplier:
        exception_raise(
            kind="unknown_receiver",
            partner=interchange.sender.party if interchange.sender else None,
            subject=interchange.receiver_isa,
            message=f"Interchange #{interchange.pk} is addressed to {interchange.receiver_isa}, which is none of our suppliers.",
            action="Tell the sender its receiver id is wrong, or register the supplier with `partner_add --role supplier`.",
        )
        return f"the ISA receiver {interchange.receiver_isa} is none of our suppliers"
    if interchange.sender is None:
        return f"the ISA sender {interchange.sender_isa} is not a registered trading partner"
    if not interchange.sender.is_active:
        return f"trading partner {interchange.sender.code} is inactive"
    earlier = _claim(interchange)
    if earlier is not None:
        interchange.duplicate_of = earlier
        interchange.save(update_fields=["duplicate_of"])
        same = (
            "the same file"
            if earlier.sha256 == interchange.sha256
            else f"ISA13 {interchange.control_number}"
        )
        return f"duplicate of interchange #{earlier.pk} ({same} from {interchange.sender_isa}); not applied again"
    return None


def _claim(interchange: Interchange) -> Interchange | None:
    """Claim the interchange as the one to apply; return the one that holds the claim when
    another does (on PostgreSQL a claim not yet committed makes this wait for its outcome)."""
    if interchange.claimed_at is None:
        try:
            with transaction.atomic():
                claimed_at = timezone.now()
                Interchange.objects.filter(pk=interchange.pk).update(claimed_at=claimed_at)
                interchange.claimed_at = claimed_at
        except IntegrityError:
            pass
        else:
            return None
    holder = (
        Interchange.objects.filter(sender=interchange.sender, claimed_at__isnull=False)
        .exclude(pk=interchange.pk)
        .filter(_same_file_or_control(interchange))
        .order_by("pk")
        .first()
    )
    if holder is None and interchange.claimed_at is None:
        raise ApplicationError(
            f"interchange #{interchange.pk} could not be claimed and no claim holder was found",
            code="claim_conflict",
        )
    return holder


def _same_file_or_control(interchange: Interchange):
    from django.db.models import Q

    return Q(sha256=interchange.sha256) | Q(
        receiver_isa=interchange.receiver_isa, control_number=interchange.control_number
    )


def _apply(interchange: Interchange, actor: str) -> None:
    _apply_acknowledgments(interchange)
    # Sets applied by an earlier run that crashed: what they changed is read back from the
    # database, since that run never got to queue their planning.
    resumed = interchange.sets.filter(
        applied_at__isnull=False, set_id__in=STOCK_REPORT_SETS
    ).exists()
    pending = {
        s.first_segment: s
        for s in interchange.sets.filter(
            applied_at__isnull=True, set_id__in=list(SET_HANDLERS)
        ).exclude(status="rejected")
    }
    changed_pairs: set[tuple[int, int]] = set()
    if pending:
        reader = X12Reader(raw_path(interchange.raw_file))
        segments = reader.segments()
        for elements in segments:
            if elements[0] != "ST" or reader.segment_number not in pending:
                continue
            inbound_set = pending.pop(reader.segment_number)
            stream = _set_stream(elements, reader, segments)
            with transaction.atomic():
                locked = InboundSet.objects.select_for_update().get(pk=inbound_set.pk)
                if locked.applied_at is not None:
                    _drain(stream)
                    continue
                outcome = SET_HANDLERS[locked.set_id](locked, stream, interchange)
                _drain(stream)
                locked.applied_at = timezone.now()
                locked.activity_rows = outcome.rows
                locked.period_start, locked.period_end = outcome.period_start, outcome.period_end
                locked.save(
                    update_fields=["applied_at", "activity_rows", "period_start", "period_end"]
                )
                Interchange.objects.filter(pk=interchange.pk).update(
                    activity_rows=interchange.activity_rows + outcome.rows,
                    positions_changed=interchange.positions_changed + len(outcome.changed),
                )
                interchange.activity_rows += outcome.rows
                interchange.positions_changed += len(outcome.changed)
                changed_pairs |= outcome.changed
            if not pending:
                break
        reader.close()
    with transaction.atomic():
        interchange = Interchange.objects.select_for_update().get(pk=interchange.pk)
        if interchange.status in (S.ACCEPTED, S.ACCEPTED_WITH_ERRORS):
            _set_status(
                interchange,
                S.APPLIED,
                actor,
                f"{interchange.activity_rows} activity rows, {interchange.positions_changed} positions changed",
            )
    if interchange.processed_at is None:
        _finish(interchange, changed_pairs=None if resumed else changed_pairs)


def _finish(interchange: Interchange, *, changed_pairs: set[tuple[int, int]] | None) -> None:
    """The follow-ups of an applied interchange, after its apply committed: queue planning
    of the item-locations it changed (``None``: read them back from its activity rows), then
    record ``processed_at``, which says they are done. A crash in between queues planning
    again on the next run, which is harmless (planning counts pending proposals). Its
    997/999 was stored with its validation and is delivered by the outbound sweep if the
    delivery task was lost; webhooks likewise by theirs."""
    if changed_pairs is None:
        changed_pairs = set(
            ProductActivity.objects.filter(source_set__interchange=interchange)
            .values_list("item_id", "location_id")
            .distinct()
        )
    if changed_pairs:
        positions_changed(item_location_pairs=changed_pairs, source=f"interchange:{interchange.pk}")
    Interchange.objects.filter(pk=interchange.pk, processed_at__isnull=True).update(
        processed_at=timezone.now()
    )


def _apply_852(inbound_set: InboundSet, stream, interchange: Interchange):
    from smi_core.services.shipments import shipments_receive_from_852

    outcome = activity_apply_852(
        inbound_set=inbound_set,
        segments=stream,
        buyer_partner=interchange.sender,
        supplier=interchange.receiver.party,
    )
    # What the buyer reports received (QR) closes our shipments.
    shipments_receive_from_852(
        item_location_pairs=outcome.received, source=f"interchange #{interchange.pk}"
    )
    return outcome


def _apply_846(inbound_set: InboundSet, stream, interchange: Interchange):
    """An 846 inventory advice: read into the 852's activity records (on hand, on order,
    committed, in transit, by location) and applied by the same code."""
    from smi_edi.x12.ts846 import Activity846

    return activity_apply_852(
        inbound_set=inbound_set,
        segments=stream,
        buyer_partner=interchange.sender,
        supplier=interchange.receiver.party,
        mapper=Activity846(),
    )


def _apply_850(inbound_set: InboundSet, stream, interchange: Interchange):
    """Link the buyer's purchase order to the approved order it was issued for."""
    from smi_core.services.orders import PurchaseOrderLine, order_link_850
    from smi_edi.x12.ts850 import read_850

    po = read_850([elements for elements, _ in stream])
    order = order_link_850(
        buyer=interchange.sender.party,
        supplier=interchange.receiver.party,
        po_number=po.po_number,
        po_date=po.po_date,
        ship_to_code=po.ship_to[1] if po.ship_to else None,
        requested_delivery=po.requested_delivery,
        lines=[
            PurchaseOrderLine(
                line_number=line.line_number,
                quantity=line.quantity,
                ids=dict(line.product_ids),
                requested_date=line.requested_date,
            )
            for line in po.lines
        ],
        actor=Actor.partner(interchange.sender.code),
        source=f"interchange #{interchange.pk}, ST02 {inbound_set.control_number}",
    )
    return ApplyOutcome(rows=1 if order else 0)


def _apply_820(inbound_set: InboundSet, stream, interchange: Interchange):
    """Apply the buyer's remittance advice to our settlements."""
    from smi_edi.services.settlement_documents import remittance_apply_820

    return remittance_apply_820(inbound_set, stream, interchange)


SET_HANDLERS = {"852": _apply_852, "846": _apply_846, "850": _apply_850, "820": _apply_820}
STOCK_REPORT_SETS = ["852", "846"]  # sets whose apply changes positions


def _apply_acknowledgments(interchange: Interchange) -> None:
    """Match the partner's 997/999 sets to the documents we sent, once."""
    from smi_edi.services.ack_matching import acknowledgments_apply

    acks = interchange.sets.filter(applied_at__isnull=True, set_id__in=["997", "999"]).exclude(
        status="rejected"
    )
    if not acks.exists():
        return
    with transaction.atomic():
        locked = list(acks.select_for_update())
        if not locked:
            return
        answered = acknowledgments_apply(interchange=interchange)
        InboundSet.objects.filter(pk__in=[s.pk for s in locked]).update(
            applied_at=timezone.now(), activity_rows=answered
        )


def _set_stream(st: list[str], reader: X12Reader, segments):
    """The segments of the set that starts with ``st``, up to and including its SE."""
    yield st, reader.segment_number
    for elements in segments:
        yield elements, reader.segment_number
        if elements[0] == "SE" or reader.current_set is None:
            return


def _drain(stream) -> None:
    for _ in stream:
        pass


# -- records ----------------------------------------------------------------------------


def _partner(qualifier: str, isa_id: str) -> TradingPartner | None:
    return (
        TradingPartner.objects.select_related("party")
        .filter(isa_qualifier=qualifier, isa_id=isa_id)
        .first()
    )


def _set_status(interchange: Interchange, to: str, actor: str, reason: str) -> None:
    current = interchange.status
    if to not in TRANSITIONS.get(current, set()):
        raise ApplicationError(
            f"interchange #{interchange.pk} cannot go from {current} to {to}", code="bad_transition"
        )
    reason = _storable(reason)
    interchange.status = to
    interchange.status_reason = reason
    interchange.save(update_fields=["status", "status_reason"])
    _status_change(interchange, current, to, actor, reason)


def _status_change(
    interchange: Interchange, from_status: str, to: str, actor: str, reason: str
) -> None:
    InterchangeStatusChange.objects.create(
        interchange=interchange,
        from_status=from_status,
        to_status=to,
        actor=actor[:100],
        reason=reason,
    )


def _storable(value):
    """What a partner sent, made storable: PostgreSQL text and JSON cannot hold NUL, so a
    NUL byte in a value is kept as the four characters \\x00."""
    if isinstance(value, str):
        return value.replace("\x00", "\\x00")
    if isinstance(value, list):
        return [_storable(v) for v in value]
    if isinstance(value, dict):
        return {k: _storable(v) for k, v in value.items()}
    return value


def _error_list(results: list[InterchangeResult]) -> list[dict]:
    errors: list[dict] = [
        {"level": "interchange", "message": m} for r in results for m in r.interchange_errors
    ]
    for result in results:
        for group in result.groups:
            for message in getattr(group, "messages", []):
                errors.append(
                    {
                        "level": "group",
                        "group": f"{group.functional_id} {group.control_number}",
                        "message": message,
                    }
                )
            for set_result in group.sets:
                for message in set_result.messages:
                    errors.append(
                        {
                            "level": "set",
                            "set": f"{set_result.set_id} {set_result.control_number}",
                            "message": message,
                        }
                    )
    return errors


def _summary(interchange: Interchange) -> ProcessSummary:
    interchange.refresh_from_db()
    return ProcessSummary(
        interchange_id=interchange.pk,
        status=interchange.status,
        sets_accepted=interchange.sets_accepted,
        sets_rejected=interchange.sets_rejected,
        activity_rows=interchange.activity_rows,
        positions_changed=interchange.positions_changed,
    )


# Not final: a crash (or a lost task) can leave an interchange in these, and in APPLIED
# with its follow-ups not done (processed_at empty).
UNFINISHED = (S.RECEIVED, S.VALIDATED, S.ACCEPTED, S.ACCEPTED_WITH_ERRORS)


def interchanges_requeue_waiting(*, older_than_minutes: int) -> int:
    """Queue again every interchange that stopped short of a final state, or was applied
    without its follow-ups, and has made no progress (status change, set applied) for the
    given minutes: the process that stored it died before queueing it, or a worker died
    in the middle and the broker would give its task back only after its visibility
    timeout. Processing resumes where it stopped, so a double queueing is harmless."""
    from datetime import timedelta

    from django.db.models import Max, OuterRef, Q, Subquery

    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    last_change = (
        InterchangeStatusChange.objects.filter(interchange=OuterRef("pk"))
        .order_by()
        .values("interchange")
        .annotate(at=Max("at"))
        .values("at")
    )
    last_set = (
        InboundSet.objects.filter(interchange=OuterRef("pk"))
        .order_by()
        .values("interchange")
        .annotate(at=Max("applied_at"))
        .values("at")
    )
    candidates = (
        Interchange.objects.filter(
            Q(status__in=UNFINISHED) | Q(status=S.APPLIED, processed_at__isnull=True),
            received_at__lt=cutoff,
        )
        .annotate(last_change=Subquery(last_change), last_set=Subquery(last_set))
        .values_list("pk", "last_change", "last_set")
        .order_by("pk")
    )
    waiting = [
        pk
        for pk, changed, applied in candidates
        if (changed is None or changed < cutoff) and (applied is None or applied < cutoff)
    ]
    from smi_edi.tasks import ingest_interchange

    for interchange_id in waiting:
        ingest_interchange.delay(interchange_id)
    if waiting:
        log.warning(
            "queued again %d unfinished interchange(s) idle since before %s", len(waiting), cutoff
        )
    return len(waiting)
