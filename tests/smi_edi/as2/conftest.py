"""Two AS2 stations over loopback: the hub (Django's live server, /as2/) and a partner
built directly on pyas2lib (tests/smi_edi/as2/station.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from smi_core.models import Party
from smi_core.services.audit import Actor
from smi_edi.models import As2Profile, TradingPartner
from smi_edi.services.as2 import as2_profile_set_certificate, as2_profile_set_private_key
from tests.smi_edi.as2.certs import key_pair
from tests.smi_edi.as2.station import Station

ADMIN = Actor.system("test")
HUB_ID = "SMIHUB-ACME"
PARTNER_ID = "DEMORETAIL-AS2"


@dataclass
class Hub:
    url: str
    ours: As2Profile
    partner: As2Profile
    retailer: TradingPartner
    supplier: TradingPartner


def make_hub(live_server, settings, station_url: str, partner_cert: str, **partner_options) -> Hub:
    settings.SMI_AS2_MDN_URL = f"{live_server.url}/as2/"
    supplier = TradingPartner.objects.create(
        party=Party.objects.get_or_create(
            code="acme", defaults={"name": "Acme Supply", "role": Party.Role.SUPPLIER}
        )[0],
        isa_qualifier="ZZ",
        isa_id="ACMESUPPLY",
        gs_id="ACMESUPPLY",
    )
    retailer = TradingPartner.objects.create(
        party=Party.objects.get_or_create(
            code="demo-retail", defaults={"name": "Demo Retail", "role": Party.Role.BUYER}
        )[0],
        isa_qualifier="ZZ",
        isa_id="DEMORETAIL",
        gs_id="DEMORETAIL",
    )
    hub_keys = key_pair(HUB_ID)
    ours = As2Profile.objects.create(partner=supplier, role=As2Profile.Role.OURS, as2_id=HUB_ID)
    as2_profile_set_certificate(profile=ours, data=hub_keys.cert_der, actor=ADMIN)  # DER
    as2_profile_set_private_key(profile=ours, data=hub_keys.key_pem.encode(), actor=ADMIN)
    partner = As2Profile.objects.create(
        partner=retailer,
        role=As2Profile.Role.PARTNER,
        as2_id=PARTNER_ID,
        url=station_url,
        **partner_options,
    )
    as2_profile_set_certificate(profile=partner, data=partner_cert.encode(), actor=ADMIN)  # PEM
    return Hub(f"{live_server.url}/as2/", ours, partner, retailer, supplier)


@pytest.fixture
def station():
    made = []

    def build(**options) -> Station:
        options.setdefault("keys", key_pair(PARTNER_ID))
        made.append(
            Station(as2_id=PARTNER_ID, hub_id=HUB_ID, hub_cert=key_pair(HUB_ID).cert_pem, **options)
        )
        return made[-1]

    yield build
    for s in made:
        s.close()
