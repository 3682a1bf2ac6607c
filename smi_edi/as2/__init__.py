"""AS2 (RFC 4130) without Django: build and parse messages and MDNs with pyas2lib, check
MICs, read certificates. The app part (profiles, storing, routing, audit) is
``smi_edi.services.as2``."""

from smi_edi.as2 import _oscrypto  # noqa: F401  (must come before pyas2lib)

# isort: split
from smi_edi.as2.certificates import (
    CertificateError,
    certificate_info,
    certificate_pem,
)
from smi_edi.as2.messages import (
    FAILURE_MODIFIERS,
    Incoming,
    LocalStation,
    MdnResult,
    Outgoing,
    RemoteStation,
    StationNotFound,
    build_mdn,
    build_message,
    is_mdn,
    parse_mdn,
    parse_message,
    raw_message,
)

__all__ = [
    "FAILURE_MODIFIERS",
    "CertificateError",
    "Incoming",
    "LocalStation",
    "MdnResult",
    "Outgoing",
    "RemoteStation",
    "StationNotFound",
    "build_mdn",
    "build_message",
    "certificate_info",
    "certificate_pem",
    "is_mdn",
    "parse_mdn",
    "parse_message",
    "raw_message",
]
