"""AS2 between the hub (live server) and a partner station built on pyas2lib, over
loopback: every combination of signed / encrypted / both / neither and synchronous /
asynchronous MDN, in both directions; the failures each refused with the right MDN and
nothing applied; duplicates answered and applied once."""

from __future__ import annotations

import pytest

from smi_edi.models import As2Message, DeliveryAttempt, Interchange, OutboundDocument
from smi_edi.services.raw_store import raw_path
from tests.smi_edi.as2.certs import key_pair
from tests.smi_edi.as2.conftest import HUB_ID, PARTNER_ID, make_hub
from tests.smi_edi.as2.station import payload_mic
from tests.x12_builders import interchange, report_852

pytestmark = pytest.mark.django_db(transaction=True)

SECURITY = [
    pytest.param(True, True, id="signed+encrypted"),
    pytest.param(True, False, id="signed"),
    pytest.param(False, True, id="encrypted"),
    pytest.param(False, False, id="plain"),
]
MDN = [pytest.param("SYNC", id="sync-mdn"), pytest.param("ASYNC", id="async-mdn")]


def an_852(control: int = 1) -> bytes:
    """Segments end with ~ alone: a line break would be sent as CRLF by MIME's text rules,
    and the test compares bytes."""
    data = interchange([report_852()], sender="DEMORETAIL", receiver="ACMESUPPLY", control=control)
    return data.replace(b"~\n", b"~")


def setup(live_server, settings, station, *, sign, encrypt, mdn_mode):
    partner = station(sign=sign, encrypt=encrypt, mdn_mode=mdn_mode)
    hub = make_hub(
        live_server,
        settings,
        partner.url,
        partner.keys.cert_pem,
        sign=sign,
        encrypt=encrypt,
        mdn_mode=mdn_mode,
    )
    return partner, hub


@pytest.mark.parametrize("mdn_mode", MDN)
@pytest.mark.parametrize(("sign", "encrypt"), SECURITY)
def test_partner_to_hub(live_server, settings, station, sign, encrypt, mdn_mode):
    # given the partner's station and the hub, each holding the other's certificate
    partner, hub = setup(
        live_server, settings, station, sign=sign, encrypt=encrypt, mdn_mode=mdn_mode
    )
    data = an_852()

    # when the partner sends an 852 over AS2
    sent = partner.send(data, hub.url)
    if mdn_mode == "ASYNC":
        # the response carries no MDN: it was posted back to Receipt-Delivery-Option
        assert b"disposition-notification" not in sent.response_body

    # then the hub stored the raw message and the payload byte for byte ...
    received = As2Message.objects.get(direction="in", message_id=sent.message.message_id)
    assert received.status == As2Message.Status.PROCESSED
    assert raw_path(received.payload_file).read_bytes() == data
    assert (received.signed, received.encrypted) == (sign, encrypt)
    # ... handed it to the same ingestion as every transport, as the identified partner
    ingested = received.interchange
    assert ingested.transport == Interchange.Transport.AS2
    assert ingested.sender == hub.retailer
    assert raw_path(ingested.raw_file).read_bytes() == data
    # ... and the partner got a processed MDN (signed, as asked) with the MIC it expects
    assert sent.mdn_status == "processed", sent.mdn_detail
    assert sent.mdn_signed
    expected_mic = sent.message.mic.decode() if sign else payload_mic(data)
    assert sent.mdn_mic == expected_mic


@pytest.mark.parametrize("mdn_mode", MDN)
@pytest.mark.parametrize(("sign", "encrypt"), SECURITY)
def test_hub_to_partner(live_server, settings, station, sign, encrypt, mdn_mode):
    # given an interchange from the partner that the hub answers with a 997 over AS2
    partner, _hub = setup(
        live_server, settings, station, sign=sign, encrypt=encrypt, mdn_mode=mdn_mode
    )
    from tests.pipeline import ingest

    # when the hub ingests it (through the drop folder's path) and sends its 997
    ingest(an_852(control=7))
    ack = OutboundDocument.objects.get(set_id="997")

    # then the partner received the 997 byte for byte, signed / encrypted as its profile says
    assert len(partner.received) == 1
    got = partner.received[0]
    assert got.status == "processed", got.detail
    assert got.payload == raw_path(ack.raw_file).read_bytes()
    assert (got.signed, got.encrypted, got.as2_from) == (sign, encrypt, HUB_ID)
    message = As2Message.objects.get(direction="out", document=ack)
    if mdn_mode == "ASYNC":
        # ... the document is not delivered until the MDN comes
        assert ack.status == OutboundDocument.Status.QUEUED
        assert message.status == As2Message.Status.AWAITING_MDN
        assert partner.post_held_mdns() == [200]
        ack.refresh_from_db()
        message.refresh_from_db()
    # ... and it is delivered once a valid MDN (signed, with our MIC) came back
    assert message.status == As2Message.Status.DELIVERED, message.reason
    assert message.mdn_signed
    assert ack.status == OutboundDocument.Status.SENT
    attempt = ack.delivery_attempts.get(channel=DeliveryAttempt.Channel.AS2)
    assert attempt.ok and "MIC matches" in attempt.detail


def test_an_mdn_with_another_mic_does_not_deliver_the_document(live_server, settings, station):
    # given a partner whose MDN says processed, but with the MIC of something else
    partner = station(sign=True, encrypt=True, wrong_mic=True)
    make_hub(live_server, settings, partner.url, partner.keys.cert_pem)
    from tests.pipeline import ingest

    ingest(an_852(control=5))

    ack = OutboundDocument.objects.get(set_id="997")
    message = As2Message.objects.get(direction="out", document=ack)
    assert partner.received[0].status == "processed"
    assert message.status == As2Message.Status.MDN_FAILED
    assert message.reason == "the MDN's MIC differs from the one we computed"
    assert ack.status == OutboundDocument.Status.QUEUED  # retried by the delivery sweep
    assert not ack.delivery_attempts.get(channel=DeliveryAttempt.Channel.AS2).ok


# -- refusals -------------------------------------------------------------------------


def _flip_inside(body: bytes) -> bytes:
    at = body.index(b"XQ*H*")
    return body[:at] + b"XQ*F*" + body[at + 5 :]


def test_tampered_payload_is_refused_with_integrity_check_failed(live_server, settings, station):
    partner, hub = setup(live_server, settings, station, sign=True, encrypt=False, mdn_mode="SYNC")

    sent = partner.send(an_852(), hub.url, tamper=_flip_inside)

    assert sent.mdn_status == "processed/Error"
    assert sent.mdn_detail == "integrity-check-failed"
    row = As2Message.objects.get(message_id=sent.message.message_id)
    assert row.status == As2Message.Status.REFUSED
    assert "Digest does not match" in row.reason
    assert row.raw_file and not row.payload_file  # the raw message is kept, nothing taken
    assert not Interchange.objects.exists()


def test_wrong_certificate_is_refused_with_authentication_failed(live_server, settings, station):
    partner, hub = setup(live_server, settings, station, sign=True, encrypt=False, mdn_mode="SYNC")
    partner.keys = key_pair("SOMEONE-ELSE")  # signs with a key the hub does not know

    sent = partner.send(an_852(), hub.url)

    assert (sent.mdn_status, sent.mdn_detail) == ("processed/Error", "authentication-failed")
    assert As2Message.objects.get().status == As2Message.Status.REFUSED
    assert not Interchange.objects.exists()


def test_encrypted_for_another_certificate_is_refused_with_decryption_failed(
    live_server, settings, station
):
    partner, hub = setup(live_server, settings, station, sign=False, encrypt=True, mdn_mode="SYNC")

    sent = partner.send(an_852(), hub.url, encrypt_cert=key_pair("OTHER-HUB").cert_pem.encode())

    assert (sent.mdn_status, sent.mdn_detail) == ("processed/Error", "decryption-failed")
    assert not Interchange.objects.exists()


def test_unknown_as2_from_is_refused_with_authentication_failed(live_server, settings, station):
    partner, hub = setup(live_server, settings, station, sign=False, encrypt=False, mdn_mode="SYNC")

    sent = partner.send(an_852(), hub.url, as2_from="STRANGER")

    row = As2Message.objects.get()
    assert (row.as2_from, row.status) == ("STRANGER", As2Message.Status.REFUSED)
    assert "'STRANGER' is not a known AS2 partner" in row.reason
    assert (
        "Disposition: automatic-action/MDN-sent-automatically; processed/Error: authentication-failed"
        in sent.mdn_text
    )
    assert not Interchange.objects.exists()


def test_expired_certificate_is_refused_with_authentication_failed(live_server, settings, station):
    expired = key_pair("EXPIRED-PARTNER", expired=True)
    partner = station(sign=True, encrypt=False, mdn_mode="SYNC", keys=expired)
    hub = make_hub(live_server, settings, partner.url, expired.cert_pem, sign=True, encrypt=False)

    sent = partner.send(an_852(), hub.url)

    assert (sent.mdn_status, sent.mdn_detail) == ("processed/Error", "authentication-failed")
    row = As2Message.objects.get()
    assert "expired on" in row.reason
    assert not Interchange.objects.exists()


def test_unsigned_from_a_partner_who_must_sign_is_refused(live_server, settings, station):
    partner = station(sign=False, encrypt=False, mdn_mode="SYNC")
    hub = make_hub(
        live_server, settings, partner.url, partner.keys.cert_pem, sign=True, encrypt=False
    )

    sent = partner.send(an_852(), hub.url)

    assert (sent.mdn_status, sent.mdn_detail) == (
        "processed/Error",
        "insufficient-message-security",
    )
    assert not Interchange.objects.exists()


def test_a_payload_that_is_not_x12_gets_a_failure_mdn(live_server, settings, station):
    partner, hub = setup(live_server, settings, station, sign=True, encrypt=True, mdn_mode="SYNC")

    sent = partner.send(b"hello, this is not EDI", hub.url)

    assert (sent.mdn_status, sent.mdn_detail) == ("processed/Error", "unexpected-processing-error")
    row = As2Message.objects.get()
    assert "not an X12 interchange" in row.reason
    assert raw_path(row.payload_file).read_bytes() == b"hello, this is not EDI"  # kept
    assert not Interchange.objects.exists()


# -- duplicates -----------------------------------------------------------------------


def test_same_message_id_twice_is_answered_and_applied_once(live_server, settings, station):
    partner, hub = setup(live_server, settings, station, sign=True, encrypt=True, mdn_mode="SYNC")
    data = an_852()

    first = partner.send(data, hub.url, message_id="po-4711")
    again = partner.send(data, hub.url, message_id="po-4711")

    assert first.mdn_status == again.mdn_status == "processed"
    assert again.mdn_mic == again.message.mic.decode()
    rows = As2Message.objects.filter(direction="in").order_by("pk")
    assert [r.status for r in rows] == ["processed", "duplicate"]
    assert rows[1].duplicate_of == rows[0]
    assert Interchange.objects.count() == 1


def test_same_payload_under_a_new_message_id_is_applied_once(live_server, settings, station):
    partner, hub = setup(live_server, settings, station, sign=False, encrypt=True, mdn_mode="SYNC")
    data = an_852()

    partner.send(data, hub.url)
    again = partner.send(data, hub.url)

    assert again.mdn_status == "processed"
    rows = As2Message.objects.filter(direction="in").order_by("pk")
    assert [r.status for r in rows] == ["processed", "duplicate"]
    assert "same payload" in rows[1].reason
    assert Interchange.objects.count() == 1


def test_private_key_is_never_shown_again(live_server, settings, station):
    _partner, hub = setup(live_server, settings, station, sign=True, encrypt=True, mdn_mode="SYNC")
    key = key_pair(HUB_ID).key_pem

    hub.ours.refresh_from_db()

    assert hub.ours.has_private_key
    assert key.split("\n")[1] not in hub.ours.private_key_encrypted
    assert hub.partner.as2_id == PARTNER_ID
