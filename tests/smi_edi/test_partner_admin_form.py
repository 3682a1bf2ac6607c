"""The trading-partner admin applies the same id rules as ``partner_add``: an id that we would
write into an ISA or GS (non-ASCII, a delimiter, too long) is refused on the form, with the
reason, and nothing is saved."""

from __future__ import annotations

import pytest

from smi_edi.admin import TradingPartnerForm
from smi_edi.models import TradingPartner
from tests.factories import PartyFactory, TradingPartnerFactory

pytestmark = pytest.mark.django_db


def form_data(party, **changes) -> dict:
    data = {
        "party": party.pk,
        "isa_qualifier": "ZZ",
        "isa_id": "NEWBUYER",
        "gs_id": "NEWBUYER",
        "x12_version": "004010",
        "element_separator": "*",
        "component_separator": ">",
        "segment_terminator": "~",
        "repetition_separator": "^",
        "ack_type": "997",
        "cadence": "weekly",
        "is_active": "on",
        "ack_window_hours": 24,
    }
    data.update(changes)
    return data


def test_a_valid_partner_is_saved():
    form = TradingPartnerForm(data=form_data(PartyFactory(code="new-buyer")))

    assert form.is_valid(), form.errors
    assert form.save().isa_key == "ZZ:NEWBUYER"


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        pytest.param("isa_id", "BUYER\u00a0ONE", "only printable ASCII", id="isa-id-nbsp"),
        pytest.param("isa_id", "BUY*ER", "an X12 delimiter", id="isa-id-delimiter"),
        pytest.param("isa_id", "", "This field is required", id="isa-id-empty"),
        pytest.param("gs_id", "GS~ID", "an X12 delimiter", id="gs-id-delimiter"),
        pytest.param("isa_qualifier", "Z", "must have 2 characters", id="qualifier-short"),
        pytest.param("x12_version", "004010 VICS", "not a GS08 version", id="version-space"),
        pytest.param("element_separator", "A", "cannot be a delimiter", id="letter-separator"),
    ],
)
def test_an_id_we_could_not_write_is_refused_with_the_reason(field, value, says):
    form = TradingPartnerForm(data=form_data(PartyFactory(code="new-buyer"), **{field: value}))

    assert not form.is_valid()
    assert says in " ".join(form.errors.get(field, []))
    assert not TradingPartner.objects.filter(party__code="new-buyer").exists()


def test_delimiters_that_collide_are_refused():
    form = TradingPartnerForm(
        data=form_data(PartyFactory(code="new-buyer"), component_separator="*")
    )

    assert not form.is_valid()
    assert "must differ" in " ".join(form.non_field_errors())


def test_the_webhook_secret_is_never_a_form_field():
    partner = TradingPartnerFactory()

    assert "webhook_secret" not in TradingPartnerForm(instance=partner).fields
