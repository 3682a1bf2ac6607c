"""A DER certificate is binary: one whose last byte looks like white space (its signature
may end in 0x0a or 0x20) must be read as it is, not stripped and refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from smi_edi.as2.certificates import certificate_info, private_key_pem
from tests.smi_edi.as2.certs import _key

WHITE = b" \t\n\r\x0b\x0c"


def der_ending_in_white_space() -> bytes:
    key = _key("der-edge")
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "der-edge")])
    now = datetime.now(UTC)
    for _ in range(2000):  # each try is a new signature; about 1 in 43 ends in white space
        der = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .sign(key, hashes.SHA256())
            .public_bytes(serialization.Encoding.DER)
        )
        if der[-1:] in [bytes([b]) for b in WHITE]:
            return der
    raise AssertionError("no signature ended in white space in 2,000 tries")


def test_a_der_certificate_ending_in_a_white_space_byte_is_read():
    der = der_ending_in_white_space()

    info = certificate_info(der)

    assert info.subject == "CN=der-edge"
    assert info.pem.startswith("-----BEGIN CERTIFICATE-----")


def test_a_der_private_key_is_read_as_it_is():
    der = _key("der-edge").private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )

    assert private_key_pem(der).startswith("-----BEGIN PRIVATE KEY-----")
