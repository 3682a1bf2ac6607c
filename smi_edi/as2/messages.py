"""AS2 messages and MDNs with pyas2lib: build (sign, encrypt), parse (decrypt, verify),
answer with an MDN carrying the MIC, and read the MDN a partner sends back.

No Django here: stations are plain values, and everything a caller needs to store or
route comes back in ``Incoming``/``Outgoing``/``MdnResult``.

Failures are reported with RFC 4130's disposition modifiers: ``decryption-failed``,
``authentication-failed`` (a signature that does not verify, an unknown ``AS2-From`` or
``AS2-To``, an expired certificate), ``integrity-check-failed`` (signed content whose
digest does not match its signature), ``insufficient-message-security`` (a partner who
must sign or encrypt did not) and ``unexpected-processing-error``.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import HTTP

from smi_edi.as2 import _oscrypto  # noqa: F401  (must come before pyas2lib)

# isort: split
from pyas2lib import as2 as pyas2
from pyas2lib import exceptions as pyas2_errors
from pyas2lib.utils import mime_to_bytes

from smi_edi.as2.certificates import certificate_info

log = logging.getLogger(__name__)

PROCESSED = "processed"
ERROR = "processed/Error"
DIGEST_ALGORITHMS = ("sha256", "sha384", "sha512", "sha1")
ENCRYPTION_ALGORITHMS = ("aes_128_cbc", "aes_192_cbc", "aes_256_cbc", "tripledes_192_cbc")
FAILURE_MODIFIERS = (
    "decryption-failed",
    "authentication-failed",
    "integrity-check-failed",
    "insufficient-message-security",
    "unexpected-processing-error",
)


class StationNotFound(pyas2_errors.PartnerNotFound):
    disposition_type = ERROR
    disposition_modifier = "authentication-failed"


class CertificateExpired(pyas2_errors.IntegrityError):
    disposition_type = ERROR
    disposition_modifier = "authentication-failed"


@dataclass(frozen=True)
class LocalStation:
    """One of ours: it signs what it sends and MDNs, and decrypts what it receives."""

    as2_id: str
    key_pem: str = field(repr=False)  # never in a repr, so never in a log line
    cert_pem: str = ""
    mdn_url: str = ""  # where partners post asynchronous MDNs to us
    domain: str = "smi-hub.local"


@dataclass(frozen=True)
class RemoteStation:
    """A partner: its certificate (to verify and encrypt to) and how we talk to it. ``sign``
    and ``encrypt`` say what we do when sending and what we require when receiving."""

    as2_id: str
    cert_pem: str = ""
    sign: bool = True
    encrypt: bool = True
    digest_alg: str = "sha256"
    enc_alg: str = "aes_256_cbc"
    mdn_mode: str = "SYNC"  # or ASYNC
    mdn_signed: bool = True


@dataclass
class Outgoing:
    message_id: str
    headers: dict[str, str]
    body: bytes
    mic: str | None  # base64 digest we expect back in the MDN
    mic_alg: str
    signed: bool
    encrypted: bool


@dataclass
class Incoming:
    ok: bool
    disposition: str  # processed, or processed/Error
    modifier: str  # empty when ok
    reason: str
    message_id: str
    as2_from: str
    as2_to: str
    payload: bytes | None
    signed: bool = False
    encrypted: bool = False
    compressed: bool = False
    mic: str | None = None
    mic_alg: str = ""
    mdn_requested: bool = False
    mdn_url: str = ""
    mdn_signed_requested: bool = False
    _message: pyas2.Message | None = field(default=None, repr=False)


@dataclass
class MdnResult:
    ok: bool  # processed, MIC matches, signature (when asked for) verified
    disposition: str
    modifier: str
    reason: str
    original_message_id: str
    mdn_message_id: str
    mic: str
    signed: bool


def raw_message(headers: dict[str, str], body: bytes) -> bytes:
    """The HTTP request as pyas2lib reads it: the headers, a blank line, the body."""
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return head.encode("utf-8", "replace") + b"\r\n" + body


def is_mdn(headers: dict[str, str], body: bytes) -> bool:
    """Whether a POST to the AS2 endpoint is an (asynchronous) MDN rather than a message."""
    lowered = {k.lower(): v for k, v in headers.items()}
    content_type = lowered.get("content-type", "").lower()
    if content_type.startswith("multipart/report"):
        return True
    if content_type.startswith("multipart/signed"):
        parsed = message_from_bytes(raw_message(headers, body), policy=HTTP)
        return any(part.get_content_type() == "multipart/report" for part in parsed.walk())
    return False


def mic_of(data: bytes, algorithm: str) -> str:
    return base64.b64encode(hashlib.new(algorithm.replace("-", ""), data).digest()).decode()


def _organization(local: LocalStation) -> pyas2.Organization:
    pem = (local.key_pem + "\n" + local.cert_pem).encode()
    return pyas2.Organization(
        as2_name=local.as2_id,
        sign_key=pem,
        decrypt_key=pem,
        mdn_url=local.mdn_url or None,
        domain=local.domain,
        mdn_confirm_text="The AS2 message has been received and handed to processing.",
    )


class _Partner(pyas2.Partner):
    """pyas2lib's partner, refusing a certificate past its expiry when it is used."""

    def load_verify_cert(self):
        _check_expiry(self.verify_cert, self.as2_name)
        return super().load_verify_cert()

    def load_encrypt_cert(self):
        _check_expiry(self.encrypt_cert, self.as2_name)
        return super().load_encrypt_cert()


def _check_expiry(cert: bytes | None, as2_id: str) -> None:
    if not cert:
        raise pyas2_errors.IntegrityError(f"no certificate is on file for {as2_id}")
    info = certificate_info(cert)
    now = datetime.now(UTC)
    if info.not_after < now:
        raise CertificateExpired(
            f"the certificate of {as2_id} expired on {info.not_after:%Y-%m-%d}"
        )
    if info.not_before > now:
        raise CertificateExpired(
            f"the certificate of {as2_id} is not valid before {info.not_before:%Y-%m-%d}"
        )


def _partner(remote: RemoteStation) -> pyas2.Partner:
    cert = remote.cert_pem.encode() if remote.cert_pem else None
    return _Partner(
        as2_name=remote.as2_id,
        verify_cert=cert,
        encrypt_cert=cert,
        validate_certs=False,  # expiry is checked by _Partner; self-signed is the norm in AS2
        sign=remote.sign,
        encrypt=remote.encrypt,
        digest_alg=remote.digest_alg,
        enc_alg=remote.enc_alg,
        mdn_mode=remote.mdn_mode or None,
        mdn_digest_alg=remote.digest_alg if remote.mdn_signed else None,
    )


# -- sending --------------------------------------------------------------------------


def build_message(
    local: LocalStation,
    remote: RemoteStation,
    payload: bytes,
    *,
    content_type: str = "application/edi-x12",
    subject: str = "EDI",
    filename: str | None = None,
    notify_to: str = "edi@smi-hub.local",
) -> Outgoing:
    """Sign and/or encrypt ``payload`` per the partner's profile, asking for its MDN."""
    message = pyas2.Message(sender=_organization(local), receiver=_partner(remote))
    message.build(
        payload,
        filename=filename,
        subject=subject,
        content_type=content_type,
        disposition_notification_to=notify_to,
    )
    mic_alg = remote.digest_alg
    mic = message.mic.decode() if message.mic else mic_of(payload, mic_alg)
    headers = {k: str(v) for k, v in message.headers.items()}
    return Outgoing(
        message_id=message.message_id,
        headers=headers,
        body=message.content if isinstance(message.content, bytes) else b"",
        mic=mic,
        mic_alg=mic_alg,
        signed=message.signed,
        encrypted=message.encrypted,
    )


# -- receiving ------------------------------------------------------------------------


def _modifier(exc: BaseException) -> str:
    if isinstance(exc, pyas2_errors.DecryptionError):
        return "decryption-failed"
    if isinstance(exc, CertificateExpired | StationNotFound | pyas2_errors.PartnerNotFound):
        return "authentication-failed"
    if isinstance(exc, pyas2_errors.IntegrityError):
        if "Digest does not match" in str(exc):
            return "integrity-check-failed"
        return "authentication-failed"
    if isinstance(exc, pyas2_errors.InsufficientSecurityError):
        return "insufficient-message-security"
    if isinstance(exc, pyas2_errors.DecompressionError):
        return "decompression-failed"
    return "unexpected-processing-error"


def _requested_mic_alg(options: str) -> str:
    """The first algorithm of signed-receipt-micalg we support (sha256 by default)."""
    for part in options.split(";"):
        name, _, values = part.partition("=")
        if name.strip().lower() == "signed-receipt-micalg":
            for value in values.split(",")[1:]:
                candidate = value.strip().lower().replace("-", "")
                if candidate in DIGEST_ALGORITHMS:
                    return candidate
    return "sha256"


def parse_message(
    raw: bytes,
    *,
    find_local: Callable[[str], LocalStation | None],
    find_remote: Callable[[str], RemoteStation | None],
) -> Incoming:
    """Decrypt and verify one AS2 message (``raw``: headers, blank line, body)."""
    message = pyas2.Message()
    found: dict[str, object] = {}

    def find(org_id: str, partner_id: str):
        local = find_local(org_id)
        if local is None:
            raise StationNotFound(f"AS2-To {org_id!r} is not one of our AS2 stations")
        remote = find_remote(partner_id)
        if remote is None:
            raise StationNotFound(f"AS2-From {partner_id!r} is not a known AS2 partner")
        found["local"], found["remote"] = local, remote
        return _organization(local), _partner(remote)

    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    asked = [line for line in lines if line.lower().startswith(b"disposition-notification-to:")]
    # pyas2lib builds (and signs) an MDN inside parse() when one is asked for; ours is built
    # by build_mdn with the MIC of an unsigned payload too, so parse without the request.
    kept = b"\r\n".join(line for line in lines if line not in asked) + b"\r\n\r\n" + body
    status, (exc, _trace), _mdn = message.parse(kept, find_org_partner_cb=find)
    headers = {k.lower(): v for k, v in message.payload.items()} if message.payload else {}
    if asked:
        headers["disposition-notification-to"] = (
            asked[0].split(b":", 1)[1].strip().decode("utf-8", "replace")
        )
    options = headers.get("disposition-notification-options", "")
    incoming = Incoming(
        ok=exc is None and status == PROCESSED,
        disposition=PROCESSED if exc is None else ERROR,
        modifier="" if exc is None else _modifier(exc),
        reason="" if exc is None else str(exc)[:2000],
        message_id=message.message_id or "",
        as2_from=pyas2.unquote_as2name(headers.get("as2-from", "")),
        as2_to=pyas2.unquote_as2name(headers.get("as2-to", "")),
        payload=None,
        signed=message.signed,
        encrypted=message.encrypted,
        compressed=message.compressed,
        mdn_requested=bool(headers.get("disposition-notification-to")),
        mdn_url=headers.get("receipt-delivery-option", ""),
        mdn_signed_requested="pkcs7-signature" in options.lower(),
        _message=message,
    )
    if incoming.ok:
        incoming.payload = message.content
        if message.mic:
            incoming.mic, incoming.mic_alg = message.mic.decode(), message.digest_alg
        else:  # unsigned: the MIC is of the payload itself
            incoming.mic_alg = _requested_mic_alg(options)
            incoming.mic = mic_of(incoming.payload, incoming.mic_alg)
            message.mic, message.digest_alg = incoming.mic.encode(), incoming.mic_alg
    return incoming


def build_mdn(
    incoming: Incoming, *, modifier: str = "", reason: str = ""
) -> tuple[dict[str, str], bytes]:
    """The MDN answering ``incoming``: processed with its MIC, or the failure with its
    modifier (``modifier`` overrides a successful parse: the app refused the payload).
    Signed when the sender asked for a signed receipt and the AS2-To station is ours."""
    modifier = modifier or incoming.modifier
    reason = reason or incoming.reason
    message = incoming._message
    if message.sender is None:  # unknown sender: answer with the defaults
        message.sender = pyas2.Partner(as2_name=incoming.as2_from or "unknown")
    if message.receiver is not None and not incoming.mdn_signed_requested:
        message.receiver = pyas2.Organization(as2_name=message.receiver.as2_name)
    if modifier and message.mic and not incoming.ok:
        message.mic = None
    mdn = pyas2.Mdn()
    failed_text = (
        f"The AS2 message could not be processed: {reason or modifier}. Nothing of it was applied."
    )
    mdn.build(
        message=message,
        status=ERROR if modifier else PROCESSED,
        detailed_status=modifier or None,
        failed_text=failed_text,
    )
    headers = {k: str(v) for k, v in mdn.headers.items()}
    return headers, mdn.content


# -- MDNs we receive ------------------------------------------------------------------


def parse_mdn(
    raw: bytes,
    *,
    local: LocalStation,
    remote: RemoteStation,
    original_message_id: str,
    original_mic: str | None,
    original_signed: bool,
    original_payload: bytes | None = None,
) -> MdnResult:
    """Read the partner's MDN for our message: its disposition, its MIC compared with what
    we computed when sending, and its signature when we asked for a signed one.

    For an unsigned message the MIC is of the payload, in the algorithm the MDN names (a
    partner asked for no particular one may answer in SHA-1): with ``original_payload`` it
    is recomputed in that algorithm before comparing."""
    original = pyas2.Message(sender=_organization(local), receiver=_partner(remote))
    original.message_id = original_message_id
    # pyas2lib compares the MIC's value only; the algorithm matters too, so we compare.
    original.mic = None
    mdn = pyas2.Mdn()

    def find(message_id, _recipient):
        return original if message_id == original_message_id else None

    status, detail = mdn.parse(raw, find)
    report = _report_fields(mdn.payload) if mdn.payload is not None else {}
    mic, _, mic_alg = report.get("received-content-mic", "").partition(",")
    mic, mic_alg = mic.strip(), mic_alg.strip().lower().replace("-", "")
    expected = original_mic
    if not original_signed and original_payload is not None and mic_alg in DIGEST_ALGORITHMS:
        expected = mic_of(original_payload, mic_alg)
    found_id = (mdn.orig_message_id or "").strip("<>")
    disposition = (status or "").strip()
    modifier = (detail or "").strip()
    ok = disposition == PROCESSED
    reason = ""
    if found_id and found_id != original_message_id:
        ok, reason = False, f"the MDN answers {found_id}, not {original_message_id}"
    elif not ok:
        reason = f"the partner answered {disposition}" + (f": {modifier}" if modifier else "")
    elif original_signed and not mic:
        ok, reason = False, "the MDN carries no Received-Content-MIC for a signed message"
    elif mic and expected and mic != expected:
        ok, reason = False, "the MDN's MIC differs from the one we computed"
        modifier = "integrity-check-failed"
    signed = b"multipart/signed" in raw[:4096].lower()
    return MdnResult(
        ok=ok,
        disposition=disposition,
        modifier=modifier,
        reason=reason,
        original_message_id=found_id,
        mdn_message_id=(mdn.message_id or "").strip("<>"),
        mic=mic,
        signed=signed,
    )


def _report_fields(payload) -> dict[str, str]:
    for part in payload.walk():
        if part.get_content_type() == "message/disposition-notification":
            inner = part.get_payload()
            if isinstance(inner, list) and inner:
                fields: dict[str, str] = {}
                for block in inner:
                    for k, v in block.items():
                        fields.setdefault(k.lower(), str(v))
                return fields
            text = mime_to_bytes(part).decode("utf-8", "replace")
            return {
                k.strip().lower(): v.strip()
                for k, _, v in (line.partition(":") for line in text.splitlines())
                if v
            }
    return {}


def mdn_original_message_id(raw: bytes) -> str:
    """The Original-Message-ID an MDN answers (to find our message before verifying)."""
    mdn = pyas2.Mdn()
    mdn.payload = pyas2.parse_mime(raw)
    try:
        message_id, _recipient = mdn.detect_mdn()
    except pyas2_errors.MDNNotFound:
        return ""
    return (message_id or "").strip("<>")
