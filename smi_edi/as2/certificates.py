"""Certificates as partners send them: PEM or DER, read into PEM with their expiry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from smi_core.exceptions import ApplicationError


class CertificateError(ApplicationError):
    code = "certificate_invalid"


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    pem: str
    subject: str
    not_before: datetime
    not_after: datetime


def _load(data: bytes) -> x509.Certificate:
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data.strip())
        # DER is binary: a signature may well end in a byte that looks like white space
        return x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise CertificateError(
            "this is not an X.509 certificate in PEM or DER form; export the partner's "
            "certificate again (a .pem, .crt or .cer file)"
        ) from exc


def certificate_pem(data: bytes | str) -> str:
    """The certificate in PEM, whether it came as PEM or DER."""
    if isinstance(data, str):
        data = data.encode()
    return _load(data).public_bytes(serialization.Encoding.PEM).decode("ascii")


def certificate_info(data: bytes | str) -> CertificateInfo:
    if isinstance(data, str):
        data = data.encode()
    cert = _load(data)
    return CertificateInfo(
        pem=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        subject=cert.subject.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )


def private_key_pem(data: bytes | str, password: bytes | None = None) -> str:
    """An RSA private key (PEM or DER, optionally with its password) as unencrypted PKCS#8
    PEM, for storing encrypted by the app."""
    if isinstance(data, str):
        data = data.encode()
    try:
        if b"-----BEGIN" in data:
            key = serialization.load_pem_private_key(data.strip(), password=password)
        else:  # DER is binary: never strip it
            key = serialization.load_der_private_key(data, password=password)
    except (ValueError, TypeError) as exc:
        raise CertificateError(
            "this is not a private key in PEM or DER form, or its password is wrong",
            code="private_key_invalid",
        ) from exc
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
