"""A term is part of its agreement: changing one makes a new agreement version, so an
approval made under the old terms no longer binds the order (no 855 goes out)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from smi_core.models import AgreementTerm
from smi_core.services.agreements import agreement_delete, agreement_save, agreements_import
from smi_core.services.audit import Actor
from smi_core.services.proposals import ApprovalInvalid
from smi_edi.services.order_documents import order_acknowledge
from tests.orders import approved_order, build_world, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings, tmp_path):
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    settings.SMI_OUTBOX_DIR = tmp_path / "outbox"
    return build_world()


def test_a_term_changed_after_approval_voids_it(world):
    order = approved_order(world)
    manager = person("manager", "agreement_manager")
    term = AgreementTerm.objects.get(agreement=world.agreement, item=world.items[0])
    version = world.agreement.version
    term.max_quantity = Decimal(10)

    agreement_save(obj=term, actor=Actor.user(manager), user=manager)

    world.agreement.refresh_from_db()
    assert world.agreement.version != version
    latest = world.agreement.history.order_by("-history_id").first()
    assert (latest.history_user, latest.history_change_reason) == (manager, "term changed")
    with pytest.raises(ApprovalInvalid, match="changed after approval"):
        order_acknowledge(order_id=order.pk, actor=Actor.system("test"))


def test_a_deleted_term_makes_a_new_version_too(world):
    version = world.agreement.version
    term = AgreementTerm.objects.get(agreement=world.agreement, item=world.items[2])

    agreement_delete(obj=term, actor=Actor.system("test"))

    assert world.agreement.version != version


def test_an_imported_terms_file_makes_one_version_per_agreement_and_none_when_unchanged(
    world, tmp_path
):
    path = tmp_path / "terms.csv"
    path.write_text(
        "agreement,item,location,min_quantity,max_quantity,min_days,max_days,moq,"
        "pack_multiple,unit_cost,lead_time_days\n"
        "acme-demo,ACME-1001,,,,7,42,24,12,2.40,\n"
        "acme-demo,ACME-1002,,,,7,42,24,24,3.10,\n"
    )
    before = world.agreement.history.count()

    agreements_import(path=path)
    after_first = world.agreement.history.count()
    agreements_import(path=path)

    assert after_first == before + 1  # two terms changed, one new version
    assert world.agreement.history.count() == after_first  # the same file changes nothing


def test_deleting_an_agreement_puts_each_of_its_terms_on_record(world):
    from smi_core.models import AuditEvent

    terms = set(
        AgreementTerm.objects.filter(agreement=world.agreement).values_list("pk", flat=True)
    )

    agreement_delete(obj=world.agreement, actor=Actor.system("test"))

    events = AuditEvent.objects.filter(action="agreement_term.deleted")
    assert {int(e.object_id) for e in events} == terms and len(terms) == 3
    assert all(Decimal(e.before["unit_cost"]) == Decimal("2.40") for e in events)
    assert AuditEvent.objects.filter(action="agreement.deleted").count() == 1
