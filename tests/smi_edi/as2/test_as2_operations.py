"""AS2 for the people who run it: profiles in the admin (certificates as PEM or DER,
expiry warned 30 days ahead, private keys never shown again), the commands, and a
document whose asynchronous MDN never comes shown as overdue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone

from smi_core.models import ExceptionItem, Party
from smi_edi.models import As2Message, As2Profile, Interchange, OutboundDocument, TradingPartner
from smi_edi.services.outbound import outbound_deliver, outbound_overdue_check
from tests.pipeline import ingest
from tests.smi_edi.as2.certs import key_pair
from tests.smi_edi.as2.conftest import make_hub
from tests.smi_edi.as2.test_as2_exchange import an_852

pytestmark = pytest.mark.django_db(transaction=True)


def _partner(code="globex") -> TradingPartner:
    party = Party.objects.create(code=code, name=code.title(), role=Party.Role.BUYER)
    return TradingPartner.objects.create(party=party, isa_qualifier="ZZ", isa_id=code.upper())


def test_admin_takes_a_der_certificate_and_a_key_that_it_never_shows_again(admin_client):
    supplier = _partner("acme")
    keys = key_pair("ADMIN-UPLOAD")
    response = admin_client.post(
        "/admin/smi_edi/as2profile/add/",
        {
            "partner": supplier.pk,
            "role": "ours",
            "as2_id": "ACME-AS2",
            "url": "",
            "sign": "on",
            "encrypt": "on",
            "digest_alg": "sha256",
            "encryption_alg": "aes_256_cbc",
            "mdn_mode": "SYNC",
            "mdn_signed": "on",
            "is_active": "on",
            "certificate_file": SimpleUploadedFile("acme.cer", keys.cert_der),
            "private_key_file": SimpleUploadedFile("acme.key", keys.key_pem.encode()),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    profile = As2Profile.objects.get(as2_id="ACME-AS2")
    assert profile.certificate.startswith("-----BEGIN CERTIFICATE-----")  # DER read as PEM
    assert profile.certificate_subject == "CN=ADMIN-UPLOAD"
    assert profile.has_private_key

    page = admin_client.get(f"/admin/smi_edi/as2profile/{profile.pk}/change/").content.decode()
    key_line = keys.key_pem.splitlines()[1]
    assert key_line not in page
    assert key_line not in profile.private_key_encrypted
    assert "uploaded (never shown)" in page


def test_admin_refuses_a_file_that_is_not_a_certificate(admin_client):
    partner = _partner()
    response = admin_client.post(
        "/admin/smi_edi/as2profile/add/",
        {
            "partner": partner.pk,
            "role": "partner",
            "as2_id": "GLOBEX",
            "url": "http://127.0.0.1:9/as2",
            "digest_alg": "sha256",
            "encryption_alg": "aes_256_cbc",
            "mdn_mode": "SYNC",
            "is_active": "on",
            "certificate_file": SimpleUploadedFile("x.pem", b"hello"),
        },
    )
    assert response.status_code == 200
    assert "not an X.509 certificate in PEM or DER form" in response.content.decode()
    assert not As2Profile.objects.exists()


def test_admin_warns_of_a_certificate_expiring_within_30_days(admin_client):
    from smi_core.services.audit import Actor
    from smi_edi.services.as2 import as2_profile_set_certificate

    profile = As2Profile.objects.create(
        partner=_partner(), role="partner", as2_id="GLOBEX", url="http://127.0.0.1:9/as2"
    )
    as2_profile_set_certificate(
        profile=profile, data=key_pair("SOON", days=12).cert_der, actor=Actor.system("t")
    )

    page = admin_client.get("/admin/smi_edi/as2profile/").content.decode()

    assert "The AS2 certificate of GLOBEX (globex) expires on" in page
    assert "in 11 days" in page or "in 12 days" in page


def test_partner_test_command_reports_the_mdn(live_server, settings, station, capsys):
    partner = station(sign=True, encrypt=True)
    make_hub(live_server, settings, partner.url, partner.keys.cert_pem)

    call_command("as2_partner_test", "DEMORETAIL-AS2")

    out = capsys.readouterr().out
    assert "(signed, encrypted)" in out
    assert "MDN: processed (Delivered (valid MDN))" in out
    assert partner.received[0].payload.startswith(b"SMI Hub AS2 test from SMIHUB-ACME")


def test_as2_send_names_what_it_cannot_find():
    with pytest.raises(CommandError, match="no outbound document or order 'PO-NOPE'"):
        call_command("as2_send", "PO-NOPE")


def test_a_document_whose_mdn_never_comes_is_overdue(live_server, settings, station):
    # given a partner that answers with asynchronous MDNs, which it holds back
    partner = station(sign=True, encrypt=True, mdn_mode="ASYNC")
    make_hub(live_server, settings, partner.url, partner.keys.cert_pem, mdn_mode="ASYNC")
    ingest(an_852(control=9))
    ack = OutboundDocument.objects.get(set_id="997")
    message = As2Message.objects.get(direction="out", document=ack)
    assert message.status == As2Message.Status.AWAITING_MDN

    # when the MDN has not come by its due time
    outbound_overdue_check(now=timezone.now() + timedelta(hours=2))

    # then the message and the document say so, and someone is asked to look
    message.refresh_from_db()
    ack.refresh_from_db()
    assert message.status == As2Message.Status.MDN_OVERDUE
    assert ack.status == OutboundDocument.Status.QUEUED
    assert ack.status_reason.startswith(f"AS2 MDN overdue: message {message.message_id}")
    assert ExceptionItem.objects.filter(kind="as2_mdn_overdue").exists()

    # and the late MDN, when it comes, still delivers the document
    partner.post_held_mdns()
    ack.refresh_from_db()
    assert ack.status == OutboundDocument.Status.SENT


def test_the_sweep_sends_again_after_an_overdue_mdn(live_server, settings, station):
    partner = station(sign=False, encrypt=True, mdn_mode="ASYNC")
    make_hub(
        live_server, settings, partner.url, partner.keys.cert_pem, sign=False, mdn_mode="ASYNC"
    )
    ingest(an_852(control=11))
    ack = OutboundDocument.objects.get(set_id="997")
    outbound_overdue_check(now=timezone.now() + timedelta(hours=2))

    outbound_deliver(document_id=ack.pk)

    sent = As2Message.objects.filter(direction="out", document=ack).order_by("pk")
    assert [m.status for m in sent] == ["mdn_overdue", "awaiting_mdn"]
    assert len(partner.received) == 2
    assert partner.received[0].payload == partner.received[1].payload


def test_as2_send_delivers_a_document_whose_mdn_failed(live_server, settings, station, capsys):
    # given a 997 whose first MDN carried another MIC (not delivered)
    partner = station(sign=True, encrypt=True, wrong_mic=True)
    make_hub(live_server, settings, partner.url, partner.keys.cert_pem)
    ingest(an_852(control=13))
    ack = OutboundDocument.objects.get(set_id="997")
    assert ack.status == OutboundDocument.Status.QUEUED

    # when the partner is fixed and an operator sends it again
    partner.wrong_mic = False
    call_command("as2_send", str(ack.pk))

    # then it is delivered on the new MDN, and the command says so
    out = capsys.readouterr().out
    ack.refresh_from_db()
    assert ack.status == OutboundDocument.Status.SENT
    assert f"997 #{ack.pk} to demo-retail: Delivered" in out
    assert "Delivered (valid MDN)" in out
    assert [m.status for m in ack.as2_messages.order_by("pk")] == ["mdn_failed", "delivered"]


def test_a_message_to_a_station_that_is_not_ours_is_refused(live_server, settings, station):
    partner = station(sign=False, encrypt=False)
    hub = make_hub(
        live_server, settings, partner.url, partner.keys.cert_pem, sign=False, encrypt=False
    )
    partner.hub_id = "SOMEONE-ELSES-HUB"

    sent = partner.send(an_852(), hub.url)

    row = As2Message.objects.get(direction="in")
    assert row.status == As2Message.Status.REFUSED
    assert "AS2-To 'SOMEONE-ELSES-HUB' is not one of our AS2 stations" in row.reason
    assert "processed/Error: authentication-failed" in sent.mdn_text
    assert not Interchange.objects.exists()
