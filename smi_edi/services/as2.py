"""AS2 in the hub: partner profiles (certificates, the private keys of our suppliers'
stations), the inbound endpoint's work (store, identify, decrypt/verify, answer with an
MDN, hand the payload to the same ingestion as every transport), outbound delivery of our
documents with the MDN checked before a document counts as delivered, and the MDN sweep.

The AS2 mechanics (pyas2lib, MICs) are in ``smi_edi.as2``; this module stores, routes and
audits.

Private keys: stored encrypted (Fernet, AES-128-CBC + HMAC) with a key derived from
DJANGO_SECRET_KEY; rotating the secret key means uploading the keys again. They are never
returned by the admin and never logged.

Settings (environment): ``SMI_AS2_MDN_URL`` - the URL partners post asynchronous MDNs to
(our ``/as2/``); ``SMI_AS2_MDN_WAIT_MINUTES`` (60) - how long an asynchronous MDN may take
before the document is shown as overdue.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from smi_core.exceptions import ApplicationError
from smi_core.services.audit import Actor, audit_record
from smi_core.services.exceptions import exception_raise
from smi_edi.as2 import (
    LocalStation,
    RemoteStation,
    build_mdn,
    build_message,
    parse_mdn,
    parse_message,
    raw_message,
)
from smi_edi.as2.certificates import certificate_info, private_key_pem
from smi_edi.as2.messages import mdn_original_message_id
from smi_edi.models import (
    As2Message,
    As2Profile,
    DeliveryAttempt,
    Interchange,
    OutboundDocument,
    TradingPartner,
)
from smi_edi.services.raw_store import raw_path, raw_store

log = logging.getLogger(__name__)
M = As2Message.Status
EXPIRY_WARNING = timedelta(days=30)


class As2Error(ApplicationError):
    code = "as2_error"


class As2Pending(Exception):
    """The message went out; its asynchronous MDN has not come yet."""

    def __init__(self, message_id: str, *, sent_now: bool = False):
        super().__init__(message_id)
        self.message_id = message_id
        self.sent_now = sent_now


@dataclass
class As2Reply:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def mdn_wait() -> timedelta:
    minutes = getattr(settings, "SMI_AS2_MDN_WAIT_MINUTES", None) or os.environ.get(
        "SMI_AS2_MDN_WAIT_MINUTES", "60"
    )
    return timedelta(minutes=float(minutes))


def our_mdn_url() -> str:
    return getattr(settings, "SMI_AS2_MDN_URL", "") or os.environ.get("SMI_AS2_MDN_URL", "")


# -- profiles ------------------------------------------------------------------------


def _fernet():
    from cryptography.fernet import Fernet

    digest = hashlib.sha256(b"smi-hub as2 private key:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def as2_profile_set_certificate(*, profile: As2Profile, data: bytes, actor: Actor) -> As2Profile:
    """Take a certificate uploaded as PEM or DER; keep it as PEM with its expiry."""
    info = certificate_info(data)
    with transaction.atomic():
        before = {"subject": profile.certificate_subject, "expires": profile.certificate_expires_at}
        profile.certificate = info.pem
        profile.certificate_subject = info.subject[:500]
        profile.certificate_expires_at = info.not_after
        profile.save()
        audit_record(
            actor=actor,
            action="as2.certificate",
            object_type="as2_profile",
            object_id=profile.pk,
            before=before,
            after={"subject": info.subject, "expires": info.not_after},
        )
    return profile


def as2_profile_set_private_key(
    *, profile: As2Profile, data: bytes, password: bytes | None = None, actor: Actor
) -> As2Profile:
    """Store one of our stations' private key, encrypted; the audit says that it changed,
    never what it is."""
    if profile.role != As2Profile.Role.OURS:
        raise As2Error(
            "only a station of ours holds a private key; a partner's profile takes its "
            "certificate only",
            code="as2_key_not_ours",
        )
    pem = private_key_pem(data, password)
    with transaction.atomic():
        profile.private_key_encrypted = _fernet().encrypt(pem.encode()).decode()
        profile.save()
        audit_record(
            actor=actor,
            action="as2.private_key",
            object_type="as2_profile",
            object_id=profile.pk,
            after={"private_key": "replaced"},
        )
    return profile


def _private_key(profile: As2Profile) -> str:
    from cryptography.fernet import InvalidToken

    if not profile.private_key_encrypted:
        raise As2Error(f"AS2 station {profile.as2_id} has no private key uploaded")
    try:
        return _fernet().decrypt(profile.private_key_encrypted.encode()).decode()
    except InvalidToken as exc:
        raise As2Error(
            f"the private key of AS2 station {profile.as2_id} cannot be read with this "
            "DJANGO_SECRET_KEY (was it changed?); upload the key again",
            code="as2_key_unreadable",
        ) from exc


def certificate_warning(profile: As2Profile, *, now: datetime | None = None) -> str:
    """'' or a sentence: expired, or expiring within 30 days."""
    expires = profile.certificate_expires_at
    if expires is None:
        return "no certificate" if profile.role == As2Profile.Role.PARTNER or profile.sign else ""
    now = now or timezone.now()
    if expires < now:
        return f"expired on {expires:%Y-%m-%d}"
    if expires - now <= EXPIRY_WARNING:
        return f"expires on {expires:%Y-%m-%d}, in {(expires - now).days} days"
    return ""


def local_station(profile: As2Profile) -> LocalStation:
    return LocalStation(
        as2_id=profile.as2_id,
        key_pem=_private_key(profile),
        cert_pem=profile.certificate,
        mdn_url=our_mdn_url(),
    )


def remote_station(profile: As2Profile) -> RemoteStation:
    return RemoteStation(
        as2_id=profile.as2_id,
        cert_pem=profile.certificate,
        sign=profile.sign,
        encrypt=profile.encrypt,
        digest_alg=profile.digest_alg,
        enc_alg=profile.encryption_alg,
        mdn_mode=profile.mdn_mode,
        mdn_signed=profile.mdn_signed,
    )


def _profile(as2_id: str, role: str) -> As2Profile | None:
    return (
        As2Profile.objects.select_related("partner__party")
        .filter(as2_id=as2_id, role=role, is_active=True)
        .first()
    )


# -- inbound ---------------------------------------------------------------------------


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def as2_receive(*, headers: dict[str, str], body: bytes, remote_addr: str = "") -> As2Reply:
    """One POST to /as2/: an AS2 message (or an asynchronous MDN for one we sent).

    The raw message is stored and recorded before anything is read from it; then it is
    decrypted and verified, its payload stored byte for byte, answered with an MDN (on the
    response or posted to Receipt-Delivery-Option) and handed to ``interchange_receive``
    + ``interchange_enqueue`` like every other transport. A failure is answered with a
    failure MDN, recorded with its reason, and nothing of it is applied."""
    from smi_edi.as2 import is_mdn

    if is_mdn(headers, body):
        return as2_mdn_receive(headers=headers, body=body)
    raw = raw_message(headers, body)
    lowered = _lower(headers)
    stored = raw_store(raw)
    as2_from = lowered.get("as2-from", "").strip().strip('"')[:128]
    message_id = lowered.get("message-id", "").strip().strip("<>")[:255]
    row = _record_inbound(
        message_id=message_id,
        as2_from=as2_from,
        as2_to=lowered.get("as2-to", "").strip().strip('"')[:128],
        headers={k: v for k, v in headers.items() if k.lower() != "authorization"},
        stored=stored,
    )

    found: dict[str, As2Profile] = {}

    def find_local(as2_id):
        profile = _profile(as2_id, As2Profile.Role.OURS)
        if profile is None or not profile.private_key_encrypted:
            return None
        found["local"] = profile
        return local_station(profile)

    def find_remote(as2_id):
        profile = _profile(as2_id, As2Profile.Role.PARTNER)
        if profile is None:
            return None
        found["remote"] = profile
        return remote_station(profile)

    incoming = parse_message(raw, find_local=find_local, find_remote=find_remote)
    remote = found.get("remote")
    modifier, reason = incoming.modifier, incoming.reason
    interchange = None
    with transaction.atomic():
        row = As2Message.objects.select_for_update().get(pk=row.pk)
        row.profile = remote if incoming.ok or remote else None
        row.signed, row.encrypted = incoming.signed, incoming.encrypted
        row.mdn_mode = ("ASYNC" if incoming.mdn_url else "SYNC") if incoming.mdn_requested else ""
        row.mdn_url = incoming.mdn_url[:500]
        if incoming.ok:
            payload = raw_store(incoming.payload)
            row.payload_file, row.payload_sha256 = payload.name, payload.sha256
            row.payload_size = payload.size
            row.mic, row.mic_alg = incoming.mic or "", incoming.mic_alg
            earlier = _earlier_copy(row)
            if row.duplicate_of_id or earlier is not None:
                row.duplicate_of = row.duplicate_of or earlier
                row.status = M.DUPLICATE
                row.interchange_id = row.duplicate_of.interchange_id
                row.reason = (
                    f"same {'Message-ID' if row.message_id == row.duplicate_of.message_id else 'payload'}"
                    f" as AS2 message #{row.duplicate_of.pk}; answered, not applied again"
                )
            else:
                interchange, modifier, reason = _hand_over(row, incoming.payload, remote)
                if interchange is not None:
                    row.interchange = interchange
                    row.status = M.PROCESSED
        if modifier:
            row.status, row.reason = M.REFUSED, reason[:2000]
            row.disposition = f"processed/Error: {modifier}"
        else:
            row.disposition = "processed"
        row.save()
        audit_record(
            actor=Actor("partner", remote.partner.code, ip=remote_addr or None)
            if remote
            else Actor("system", "as2", ip=remote_addr or None),
            action="as2.receive",
            object_type="as2_message",
            object_id=row.pk,
            after={
                "message_id": row.message_id,
                "from": row.as2_from,
                "to": row.as2_to,
                "status": row.status,
                "disposition": row.disposition,
                "raw_sha256": row.raw_sha256,
                "payload_sha256": row.payload_sha256,
                "interchange": row.interchange_id,
            },
        )
        if interchange is not None:
            from smi_edi.services.interchanges import interchange_enqueue

            interchange_enqueue(interchange)
    if modifier:
        log.info(
            "AS2 message %s from %s refused: %s (%s)",
            row.message_id,
            row.as2_from,
            modifier,
            reason,
        )
    if not incoming.mdn_requested:
        return As2Reply(200, {"Content-Type": "text/plain"}, b"received, no MDN requested\n")
    mdn_headers, mdn_body = build_mdn(incoming, modifier=modifier, reason=reason)
    mdn_stored = raw_store(raw_message(mdn_headers, mdn_body))
    As2Message.objects.filter(pk=row.pk).update(
        mdn_file=mdn_stored.name,
        mdn_message_id=mdn_headers.get("Message-ID", "").strip("<>")[:255],
        mdn_signed=mdn_headers.get("Content-Type", "").startswith("multipart/signed"),
        mdn_at=timezone.now(),
        mdn_delivery="pending" if incoming.mdn_url else "",
    )
    if incoming.mdn_url:
        row_id = row.pk
        transaction.on_commit(lambda: _enqueue_mdn(row_id))
        return As2Reply(200, {"Content-Type": "text/plain"}, b"received; the MDN follows\n")
    return As2Reply(200, mdn_headers, mdn_body)


def _record_inbound(*, message_id, as2_from, as2_to, headers, stored) -> As2Message:
    values = dict(
        direction=As2Message.Direction.IN,
        message_id=message_id,
        as2_from=as2_from,
        as2_to=as2_to,
        headers=headers,
        raw_file=stored.name,
        raw_sha256=stored.sha256,
        raw_size=stored.size,
    )
    try:
        with transaction.atomic():
            return As2Message.objects.create(**values)
    except IntegrityError:
        first = (
            As2Message.objects.filter(
                direction="in", as2_from=as2_from, message_id=message_id, duplicate_of=None
            )
            .exclude(status=M.REFUSED)
            .first()
        )
        return As2Message.objects.create(**values, duplicate_of=first)


def _earlier_copy(row: As2Message) -> As2Message | None:
    """An earlier message of the same partner taken in with the same payload."""
    return (
        As2Message.objects.filter(
            direction="in",
            profile=row.profile,
            payload_sha256=row.payload_sha256,
            status=M.PROCESSED,
        )
        .exclude(pk=row.pk)
        .order_by("pk")
        .first()
    )


def _hand_over(row: As2Message, payload: bytes, remote: As2Profile):
    """The same ingestion as every transport. Returns (interchange, modifier, reason)."""
    from smi_edi.services.interchanges import interchange_receive

    try:
        with transaction.atomic():
            interchange = interchange_receive(
                source=payload,
                transport=Interchange.Transport.AS2,
                source_name=f"AS2 {row.message_id}",
                actor=f"partner:{remote.partner.code}",
                as_partner=remote.partner,
            )
    except ApplicationError as exc:
        return None, "unexpected-processing-error", exc.message
    return interchange, "", ""


def _enqueue_mdn(row_id: int) -> None:
    from smi_edi.tasks import as2_post_mdn

    as2_post_mdn.delay(row_id)


def as2_mdn_post(*, message_pk: int) -> str:
    """Post the asynchronous MDN we owe for one received message (the task's work)."""
    row = As2Message.objects.get(pk=message_pk)
    if row.mdn_delivery == "sent" or not row.mdn_file or not row.mdn_url:
        return row.mdn_delivery
    mdn_headers, mdn_body = _split(raw_path(row.mdn_file).read_bytes())
    try:
        status = _post(row.mdn_url, mdn_headers, mdn_body)[0]
        outcome, detail = "sent", f"HTTP {status}"
    except As2Error as exc:
        outcome, detail = "failed", exc.message
    As2Message.objects.filter(pk=row.pk).update(mdn_delivery=outcome)
    if outcome == "failed":
        log.warning("asynchronous MDN for %s not delivered: %s", row.message_id, detail)
        raise As2Error(f"asynchronous MDN to {row.mdn_url} not delivered: {detail}")
    return outcome


def _split(raw: bytes) -> tuple[dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    headers = {}
    for line in head.decode("utf-8", "replace").split("\r\n"):
        name, _, value = line.partition(":")
        if name:
            headers[name.strip()] = value.strip()
    return headers, body


def _post(url: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    timeout = getattr(settings, "SMI_HTTP_TIMEOUT", 20)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as exc:
        raise As2Error(
            f"HTTP {exc.code} {exc.reason} from {url}", extra={"http_status": exc.code}
        ) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise As2Error(f"no answer from {url}: {getattr(exc, 'reason', exc)}") from exc


# -- outbound --------------------------------------------------------------------------


def partner_as2_url(partner: TradingPartner) -> str:
    profile = As2Profile.objects.filter(
        partner=partner, role=As2Profile.Role.PARTNER, is_active=True
    ).first()
    return profile.url if profile and profile.url else ""


def _our_station_for(data: bytes) -> As2Profile:
    from smi_edi.x12.reader import X12Reader

    ours = As2Profile.objects.filter(role=As2Profile.Role.OURS, is_active=True)
    try:
        isa = X12Reader(data[:4096] + b"\n").isa
        profile = ours.filter(partner__isa_qualifier=isa[5], partner__isa_id=isa[6]).first()
    except Exception:
        profile = None
    if profile is None and ours.count() == 1:
        profile = ours.first()
    if profile is None:
        raise As2Error(
            "no AS2 station of ours sends as this document's ISA sender; add an AS2 profile "
            "(role: one of our suppliers) with its key and certificate",
            code="as2_no_station",
        )
    return profile


def as2_deliver_document(*, document: OutboundDocument, data: bytes) -> tuple[str, int]:
    """Send one outbound document over AS2 (called by ``outbound_deliver``). Returns
    (detail, http status) once a valid MDN says processed; raises ``As2Pending`` while an
    asynchronous MDN is awaited, ``As2Error`` when the send or the MDN failed."""
    latest = document.as2_messages.filter(direction="out").order_by("-pk").first()
    now = timezone.now()
    if latest is not None and latest.status == M.DELIVERED:
        return f"AS2 {latest.message_id}: MDN processed", 200
    if latest is not None and latest.status == M.AWAITING_MDN:
        if latest.mdn_due_at and latest.mdn_due_at <= now:
            _mark_overdue(latest, now=now)
            raise As2Error(
                f"no MDN for AS2 message {latest.message_id} within "
                f"{int(mdn_wait().total_seconds() // 60)} min (overdue); sending again"
            )
        raise As2Pending(latest.message_id)
    remote = document.partner.as2_profile
    row, reply = as2_transmit(
        remote=remote,
        local=_our_station_for(data),
        payload=data,
        document=document,
        subject=f"{document.set_id} {document.interchange_control_number}",
    )
    if row.status == M.DELIVERED:
        return f"AS2 {row.message_id}: MDN processed, MIC matches", reply
    if row.status == M.AWAITING_MDN:
        raise As2Pending(row.message_id, sent_now=True)
    raise As2Error(f"AS2 {row.message_id}: {row.reason}", extra={"http_status": reply})


def as2_transmit(
    *,
    remote: As2Profile,
    local: As2Profile,
    payload: bytes,
    document: OutboundDocument | None = None,
    subject: str = "EDI",
    content_type: str = "application/edi-x12",
) -> tuple[As2Message, int | None]:
    """Build, record (raw, before sending) and POST one message; read a synchronous MDN."""
    if not remote.url:
        raise As2Error(f"AS2 partner {remote.as2_id} has no URL", code="as2_no_url")
    if remote.mdn_mode == As2Profile.MdnMode.ASYNC and not our_mdn_url():
        raise As2Error(
            "asynchronous MDNs need SMI_AS2_MDN_URL (our /as2/ URL as partners reach it)",
            code="as2_no_mdn_url",
        )
    try:
        outgoing = build_message(
            local_station(local),
            remote_station(remote),
            payload,
            content_type=content_type,
            subject=subject,
        )
    except As2Error:
        raise
    except Exception as exc:
        raise As2Error(f"cannot build the AS2 message for {remote.as2_id}: {exc}") from exc
    stored = raw_store(raw_message(outgoing.headers, outgoing.body))
    body_stored = raw_store(payload)
    now = timezone.now()
    row = As2Message.objects.create(
        direction=As2Message.Direction.OUT,
        message_id=outgoing.message_id,
        as2_from=local.as2_id,
        as2_to=remote.as2_id,
        profile=remote,
        status=M.AWAITING_MDN,
        headers=outgoing.headers,
        raw_file=stored.name,
        raw_sha256=stored.sha256,
        raw_size=stored.size,
        payload_file=body_stored.name,
        payload_sha256=body_stored.sha256,
        payload_size=body_stored.size,
        signed=outgoing.signed,
        encrypted=outgoing.encrypted,
        mic=outgoing.mic or "",
        mic_alg=outgoing.mic_alg,
        mdn_mode=remote.mdn_mode,
        mdn_url=our_mdn_url() if remote.mdn_mode == "ASYNC" else "",
        mdn_due_at=now + mdn_wait(),
        document=document,
    )
    try:
        status, headers, body = _post(remote.url, outgoing.headers, outgoing.body)
    except As2Error as exc:
        As2Message.objects.filter(pk=row.pk).update(status=M.SEND_FAILED, reason=exc.message)
        row.refresh_from_db()
        return row, exc.extra.get("http_status")
    if remote.mdn_mode == As2Profile.MdnMode.SYNC:
        _take_mdn(row, raw_message(headers, body))
        row.refresh_from_db()
    return row, status


def as2_mdn_receive(*, headers: dict[str, str], body: bytes) -> As2Reply:
    """An asynchronous MDN for a message we sent: stored raw, checked, and the document
    delivered when it says processed with the MIC we computed."""
    raw = raw_message(headers, body)
    original_id = mdn_original_message_id(raw)
    row = As2Message.objects.filter(direction="out", message_id=original_id).first()
    if row is None:
        raw_store(raw)
        log.warning("MDN for unknown AS2 message %r", original_id)
        return As2Reply(404, {"Content-Type": "text/plain"}, b"no such AS2 message of ours\n")
    _take_mdn(row, raw)
    return As2Reply(200, {"Content-Type": "text/plain"}, b"MDN received\n")


def _take_mdn(row: As2Message, raw: bytes) -> None:
    stored = raw_store(raw)
    remote = row.profile
    local = As2Profile.objects.get(as2_id=row.as2_from, role=As2Profile.Role.OURS)
    try:
        result = parse_mdn(
            raw,
            local=local_station(local),
            remote=remote_station(remote),
            original_message_id=row.message_id,
            original_mic=row.mic or None,
            original_signed=row.signed,
            original_payload=raw_path(row.payload_file).read_bytes() if row.payload_file else None,
        )
        ok, disposition, reason = result.ok, result.disposition, result.reason
        disposition += f": {result.modifier}" if result.modifier else ""
        mdn_id, signed = result.mdn_message_id, result.signed
    except Exception as exc:
        ok, disposition, reason, mdn_id, signed = (
            False,
            "unreadable",
            f"unreadable MDN: {exc}",
            "",
            False,
        )
    now = timezone.now()
    with transaction.atomic():
        row = As2Message.objects.select_for_update().get(pk=row.pk)
        if row.status == M.DELIVERED:
            return
        row.status = M.DELIVERED if ok else M.MDN_FAILED
        row.reason = reason[:2000]
        row.disposition = disposition[:200]
        row.mdn_file, row.mdn_message_id, row.mdn_signed, row.mdn_at = (
            stored.name,
            mdn_id[:255],
            signed,
            now,
        )
        row.save()
        audit_record(
            actor=Actor("partner", remote.partner.code),
            action="as2.mdn",
            object_type="as2_message",
            object_id=row.pk,
            after={"message_id": row.message_id, "status": row.status, "disposition": disposition},
        )
        document_id = row.document_id
        if document_id and row.mdn_mode == "ASYNC":
            DeliveryAttempt.objects.create(
                document_id=document_id,
                channel=DeliveryAttempt.Channel.AS2,
                target=remote.url,
                ok=ok,
                detail=(
                    f"AS2 {row.message_id}: asynchronous MDN processed, MIC matches"
                    if ok
                    else f"AS2 {row.message_id}: {reason}"
                )[:2000],
            )
    if document_id and row.mdn_mode == "ASYNC" and ok:
        from smi_edi.services.outbound import outbound_deliver

        outbound_deliver(document_id=document_id)


def _mark_overdue(row: As2Message, *, now: datetime) -> bool:
    with transaction.atomic():
        updated = As2Message.objects.filter(pk=row.pk, status=M.AWAITING_MDN).update(
            status=M.MDN_OVERDUE,
            reason=f"no MDN by {row.mdn_due_at:%Y-%m-%d %H:%M} UTC",
        )
        if not updated:
            return False
        if row.document_id:
            OutboundDocument.objects.filter(pk=row.document_id).update(
                status_reason=f"AS2 MDN overdue: message {row.message_id} sent "
                f"{row.created_at:%Y-%m-%d %H:%M} UTC, no MDN by {row.mdn_due_at:%H:%M}"
            )
            exception_raise(
                kind="as2_mdn_overdue",
                partner=row.profile.partner.party,
                subject=f"AS2 {row.message_id}",
                message=f"{row.as2_to} has not sent the MDN for AS2 message {row.message_id} "
                f"(document #{row.document_id}) by {row.mdn_due_at:%Y-%m-%d %H:%M} UTC.",
                action="Ask the partner whether its AS2 server received the message; the "
                "delivery sweep sends it again with backoff.",
            )
    return True


def as2_mdn_overdue_check(*, now: datetime | None = None) -> int:
    """Mark sent messages whose asynchronous MDN is past due as overdue (shown on the
    document and as an exception); the delivery sweep then sends again with backoff."""
    now = now or timezone.now()
    late = As2Message.objects.filter(
        direction="out", status=M.AWAITING_MDN, mdn_due_at__lt=now
    ).select_related("profile__partner__party")
    return sum(1 for row in late if _mark_overdue(row, now=now))


# -- commands ---------------------------------------------------------------------------


def as2_send(*, reference: str, actor: Actor) -> OutboundDocument:
    """``as2_send``: deliver an outbound document (its id) or the latest document of an
    order (its PO number) over AS2 now."""
    from smi_edi.services.outbound import outbound_attempt

    document = None
    if reference.isdigit():
        document = OutboundDocument.objects.filter(pk=int(reference)).first()
    if document is None:
        document = (
            OutboundDocument.objects.filter(order__po_number=reference).order_by("-pk").first()
        )
    if document is None:
        raise As2Error(f"no outbound document or order {reference!r}", code="not_found")
    if not partner_as2_url(document.partner):
        raise As2Error(
            f"{document.partner.code} has no active AS2 profile with a URL; add one in the admin",
            code="as2_no_url",
        )
    audit_record(
        actor=actor,
        action="as2.send",
        object_type="outbound_document",
        object_id=document.pk,
        after={"reference": reference},
    )
    outbound_attempt(document_id=document.pk)
    document.refresh_from_db()
    return document


def as2_partner_test(*, partner: str, actor: Actor) -> As2Message:
    """``as2_partner_test``: send a small test message to the partner and report its MDN."""
    remote = (
        As2Profile.objects.filter(role=As2Profile.Role.PARTNER, as2_id=partner).first()
        or As2Profile.objects.filter(role=As2Profile.Role.PARTNER, partner__code=partner).first()
    )
    if remote is None:
        raise As2Error(f"no AS2 partner profile {partner!r}", code="not_found")
    local = As2Profile.objects.filter(role=As2Profile.Role.OURS, is_active=True).first()
    if local is None:
        raise As2Error("no AS2 station of ours is configured", code="as2_no_station")
    payload = f"SMI Hub AS2 test from {local.as2_id} to {remote.as2_id} at {timezone.now():%Y-%m-%d %H:%M:%S} UTC\r\n"
    row, _status = as2_transmit(
        remote=remote,
        local=local,
        payload=payload.encode(),
        subject="AS2 connectivity test",
        content_type="text/plain",
    )
    audit_record(
        actor=actor,
        action="as2.partner_test",
        object_type="as2_message",
        object_id=row.pk,
        after={"partner": remote.as2_id, "status": row.status},
    )
    return row
