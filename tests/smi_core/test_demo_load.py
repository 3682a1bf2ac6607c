import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from smi_core.models import ProductActivity, ReplenishmentProposal, SupplyAgreement
from smi_edi.models import Interchange


@pytest.mark.django_db
def test_demo_load_builds_the_demo_once_and_prints_the_logins(settings, tmp_path, capsys):
    settings.VAR_DIR = tmp_path
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"

    call_command("demo_load")
    first = capsys.readouterr().out
    counts = (
        Interchange.objects.count(),
        ProductActivity.objects.count(),
        ReplenishmentProposal.objects.count(),
    )
    call_command("demo_load")
    second = capsys.readouterr().out

    passwords = json.loads((tmp_path / "demo-credentials.json").read_text())
    users = get_user_model().objects
    assert users.get(username="admin").is_superuser and users.get(username="admin").check_password(
        passwords["admin"]
    )
    approver = users.get(username="approver")
    assert (
        list(approver.groups.values_list("name", flat=True)) == ["approver"]
        and not approver.is_superuser
    )
    assert f"approver           {passwords['approver']}" in first
    assert SupplyAgreement.objects.count() == 3
    assert counts[0] == 24 and Interchange.objects.filter(status="applied").count() == 24
    assert counts[1] == 3360 and counts[2] > 0
    # a second load changes nothing
    assert (
        Interchange.objects.count(),
        ProductActivity.objects.count(),
        ReplenishmentProposal.objects.count(),
    ) == counts
    assert first.splitlines()[-10:] == second.splitlines()[-10:]
    # a short summary before the logins: one line for the 24 files, one for the documents
    assert "24 sample 852 file(s) ingested" in first and ".edi:" not in first
    assert len(first.splitlines()) <= 25, first
    # planned once, as of the samples' latest week, not as of the day the demo is loaded
    from django.db.models import Max

    from smi_core.models import PlanRun, StockLevel

    latest = StockLevel.objects.aggregate(latest=Max("period_end"))["latest"]
    assert set(PlanRun.objects.values_list("as_of", flat=True)) == {latest}
    assert set(ReplenishmentProposal.objects.values_list("as_of", flat=True)) == {latest}
    assert f"planned as of {latest}, the date of the latest 852 data: " in first


def test_celery_logs_a_line_per_task_only_at_info_when_asked():
    import logging

    assert logging.getLogger("celery.app.trace").getEffectiveLevel() == logging.WARNING
