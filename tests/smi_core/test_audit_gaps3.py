"""Gaps an audit found in the trail: agreement and term changes (import and admin) wrote no
audit event and an import named nobody, so SOD-02 could not see who changed thresholds; and
the chain could not be checked against a checkpoint kept outside the system."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from smi_core.models import AgreementTerm, AuditEvent, ReplenishmentProposal, SupplyAgreement
from smi_core.services.audit import Actor, audit_head, audit_record
from smi_core.services.proposals import proposal_approve
from smi_core.services.sod import SodViolation
from tests.orders import approved_order, build_world

pytestmark = pytest.mark.django_db
P = ReplenishmentProposal.Status
TERMS_HEADER = "agreement,item,location,min_quantity,max_quantity,unit_cost\n"


@pytest.fixture
def world(settings, tmp_path):
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    settings.SMI_OUTBOX_DIR = tmp_path / "outbox"
    return build_world()


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def threshold_file(tmp_path, min_quantity="10", max_quantity="80"):
    path = tmp_path / "terms.csv"
    path.write_text(
        TERMS_HEADER
        + f"acme-demo,ACME-1001,,{min_quantity},{max_quantity},2.40\n"
        + "acme-demo,ACME-1002,S001,5,40,2.40\n"  # a new per-store term
    )
    return path


# -- agreements_import --as USER -------------------------------------------------------------


def test_who_imported_a_threshold_change_may_not_approve_under_the_agreement(world, tmp_path):
    approver = world.users["approver"]
    proposal = approved_order(world, approve=False)

    call_command("agreements_import", str(threshold_file(tmp_path)), "--as", "approver")

    with pytest.raises(SodViolation) as denied:
        proposal_approve(proposal_id=proposal.pk, user=approver)
    assert "SOD-02" in denied.value.rule_codes
    proposal.refresh_from_db()
    assert proposal.status != P.APPROVED
    term = AgreementTerm.objects.get(item=world.items[0], location=None)
    assert term.history.latest().history_user == approver


def test_an_import_audits_each_created_and_updated_term_with_before_and_after(
    world, tmp_path, capsys
):
    call_command("agreements_import", str(threshold_file(tmp_path)), "--as", "approver")

    assert "1 created, 1 updated" in capsys.readouterr().out
    [updated] = events("agreement_term.updated")
    term = AgreementTerm.objects.get(item=world.items[0], location=None)
    assert (updated.object_id, updated.actor_type, updated.actor) == (
        str(term.pk),
        "user",
        "approver",
    )
    assert updated.before == {"max_quantity": None, "min_quantity": None}
    assert updated.after["source"] == "terms.csv"
    assert {k: Decimal(v) for k, v in updated.after.items() if k != "source"} == {
        "min_quantity": 10,
        "max_quantity": 80,
    }
    [created] = events("agreement_term.created")
    assert created.before is None and created.after["location_id"] == world.stores["S001"].pk


def test_importing_the_same_file_again_audits_nothing(world, tmp_path):
    path = threshold_file(tmp_path)
    call_command("agreements_import", str(path), "--as", "approver")
    count = AuditEvent.objects.count()

    call_command("agreements_import", str(path), "--as", "approver")

    assert AuditEvent.objects.count() == count


def test_an_import_without_as_is_recorded_as_the_system_actor(world, tmp_path):
    call_command("agreements_import", str(threshold_file(tmp_path)))

    [updated] = events("agreement_term.updated")
    assert (updated.actor_type, updated.actor) == ("system", "agreements_import")
    assert AgreementTerm.history.filter(history_user__isnull=False).count() == 0


def test_an_import_as_an_unknown_user_applies_nothing(world, tmp_path):
    with pytest.raises(CommandError, match="no active user 'nobody'"):
        call_command("agreements_import", str(threshold_file(tmp_path)), "--as", "nobody")

    assert AgreementTerm.objects.get(item=world.items[0], location=None).min_quantity is None
    assert not events("agreement_term.updated")


# -- the admin -------------------------------------------------------------------------------


def _post_data(form) -> dict:
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(field, forms.BooleanField):
            if value:
                data[form.add_prefix(name)] = "on"
            continue
        data[form.add_prefix(name)] = "" if value is None else str(value)
    return data


def _change_page_data(client, url) -> dict:
    page = client.get(url)
    assert page.status_code == 200
    data = _post_data(page.context["adminform"].form)
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(
            {
                f"{formset.prefix}-TOTAL_FORMS": str(len(formset.forms)),
                f"{formset.prefix}-INITIAL_FORMS": str(formset.initial_form_count()),
                f"{formset.prefix}-MIN_NUM_FORMS": "0",
                f"{formset.prefix}-MAX_NUM_FORMS": "1000",
            }
        )
        for form in formset.forms:
            data.update(_post_data(form))
    return data


@pytest.fixture
def boss():
    user = get_user_model().objects.create_superuser("boss", password="pw")
    client = Client()
    client.force_login(user)
    return user, client


def test_an_agreement_and_its_terms_changed_in_the_admin_are_audited(world, boss):
    user, client = boss
    url = f"/admin/smi_core/supplyagreement/{world.agreement.pk}/change/"
    data = _change_page_data(client, url)
    data["service_level"] = "0.97"
    data["terms-0-moq"] = "12"

    response = client.post(url, data)

    assert response.status_code == 302
    [agreement] = events("agreement.updated")
    assert agreement.actor == "boss" and agreement.object_id == str(world.agreement.pk)
    assert Decimal(agreement.before["service_level"]) == Decimal("0.95")
    assert Decimal(agreement.after["service_level"]) == Decimal("0.97")
    assert set(agreement.after) == {"service_level"}
    [term] = events("agreement_term.updated")
    assert term.actor == "boss" and Decimal(term.after["moq"]) == 12
    assert SupplyAgreement.history.latest().history_user == user


def test_a_term_changed_in_the_term_admin_is_audited(world, boss):
    user, client = boss
    term = AgreementTerm.objects.get(item=world.items[1], location=None)
    url = f"/admin/smi_core/agreementterm/{term.pk}/change/"
    data = _change_page_data(client, url)
    data["max_quantity"] = "60"

    assert client.post(url, data).status_code == 302

    [event] = events("agreement_term.updated")
    assert event.object_id == str(term.pk) and event.actor == "boss"
    assert event.before == {"max_quantity": None} and Decimal(event.after["max_quantity"]) == 60
    assert term.history.latest().history_user == user


def test_a_capacity_changed_in_its_admin_is_audited(world, boss):
    from smi_core.models import SupplierCapacity

    user, client = boss
    capacity = SupplierCapacity.objects.create(
        supplier=world.supplier.party, item_group="soap", units_per_week=Decimal(100)
    )
    url = f"/admin/smi_core/suppliercapacity/{capacity.pk}/change/"
    data = _change_page_data(client, url)
    data["units_per_week"] = "80"

    assert client.post(url, data).status_code == 302

    [event] = events("supplier_capacity.updated")
    assert event.actor == "boss" and Decimal(event.after["units_per_week"]) == 80
    assert capacity.history.latest().history_user == user


# -- verify_audit_chain --checkpoint ---------------------------------------------------------


def _record(n: int) -> None:
    for i in range(n):
        audit_record(
            actor=Actor.system("test"), action="test.event", object_type="test", object_id=i
        )


def _cut_newest(count: int) -> None:
    """What restoring an older backup, or someone with the database password, does: the
    newest events go, and the chain that remains is still intact."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE smi_core_auditevent DISABLE TRIGGER smi_audit_no_update_delete"
            )
        else:
            cursor.execute("DROP TRIGGER IF EXISTS smi_audit_no_delete")
    newest = list(AuditEvent.objects.order_by("-id").values_list("id", flat=True)[:count])
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM smi_core_auditevent WHERE id IN ({','.join('%s' for _ in newest)})",
            newest,
        )


def test_the_chain_verifies_against_a_checkpoint_it_contains(db, capsys):
    _record(2)
    event_id, checkpoint = audit_head()
    _record(3)

    call_command("verify_audit_chain", "--checkpoint", checkpoint)

    out = capsys.readouterr().out
    assert f"checkpoint {checkpoint} found at event #{event_id}" in out
    assert "3 event(s) written since" in out


def test_losing_the_newest_events_is_found_against_the_checkpoint(db, capsys):
    _record(4)
    _, checkpoint = audit_head()
    _cut_newest(2)
    call_command("verify_audit_chain")  # without the checkpoint, the cut chain looks intact
    capsys.readouterr()

    with pytest.raises(SystemExit) as failed:
        call_command("verify_audit_chain", "--checkpoint", checkpoint)

    assert failed.value.code == 1
    err = capsys.readouterr().err
    assert f"no event in the chain has the checkpoint hash {checkpoint}" in err
    assert "cut" in err and "rewritten" in err


def test_a_checkpoint_that_is_not_a_hash_is_refused(db):
    with pytest.raises(CommandError, match="not a sha256 hash") as refused:
        call_command("verify_audit_chain", "--checkpoint", "event #12")

    assert refused.value.returncode == 2
