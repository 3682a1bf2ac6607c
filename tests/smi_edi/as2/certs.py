"""Throwaway RSA keys and self-signed certificates for AS2 tests, made with `cryptography`
when a test runs (no private key of any value is ever committed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class KeyPair:
    key_pem: str
    cert_pem: str
    cert_der: bytes


@cache
def _key(seed: str) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def key_pair(name: str, *, days: int = 365, expired: bool = False) -> KeyPair:
    """A key and a self-signed certificate for ``name``; ``expired`` ended yesterday."""
    key = _key(name)
    now = datetime.now(UTC)
    start, end = (
        (now - timedelta(days=400), now - timedelta(days=1))
        if expired
        else (now - timedelta(days=1), now + timedelta(days=days))
    )
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return KeyPair(
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
        cert_der=cert.public_bytes(serialization.Encoding.DER),
    )
