"""The demo data proposes a consignment settlement for each monthly cycle its samples
cover, which the demo `finance` user may approve (the system prepared it)."""

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from smi_core.models import SettlementInvoice
from smi_core.services.settlement import settlement_approve


@pytest.mark.django_db
def test_the_demo_proposes_settlements_the_finance_user_can_approve(settings, tmp_path, capsys):
    settings.VAR_DIR = tmp_path
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"

    call_command("demo_load")
    out = capsys.readouterr().out
    call_command("demo_load")  # again: nothing billed twice

    # The samples' reports run to 2026-11-22: October is the one whole month.
    (invoice,) = SettlementInvoice.objects.all()
    assert (invoice.buyer.code, invoice.cycle_start, invoice.status) == (
        "demo-retail",
        date(2026, 10, 1),
        "proposed",
    )
    assert invoice.total > 0 and invoice.prepared_by is None
    assert f"1 consignment settlement(s) proposed ({invoice.number})" in out
    finance = get_user_model().objects.get(username="finance")
    approved = settlement_approve(invoice_id=invoice.pk, user=finance)
    assert approved.status == "approved"
