"""The interchange admin: raw file and 997 downloads and the reprocess action, for staff who
hold the permission and refused to those who do not."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from smi_core.services.audit import Actor
from smi_core.services.roles import user_roles_set
from smi_edi.models import Interchange
from smi_edi.services.interchanges import interchange_fail, interchange_receive
from smi_edi.services.partners import partner_add
from tests.factories import ItemFactory, LocationFactory
from tests.pipeline import ingest
from tests.x12_builders import interchange, report_852

pytestmark = pytest.mark.django_db
User = get_user_model()
CHANGELIST = "/admin/smi_edi/interchange/"
WEEK = report_852(
    lines=[("VN*ACME-1001", ["ZA*QA**EA", "SDQ*EA*92*S001*15", "ZA*QS**EA", "SDQ*EA*92*S001*7"])]
)


def client_for(name: str, *roles: str, staff: bool = True, perms: tuple[str, ...] = ()) -> Client:
    user = User.objects.create_user(name, password="pw", is_staff=staff)
    if roles:
        user_roles_set(user=user, roles=list(roles), actor=Actor.system("test"))
    for codename in perms:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world(settings, tmp_path):
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    supplier, _ = partner_add(
        code="acme-supply", name="Acme", isa="ZZ:ACMESUPPLY", role="supplier", with_token=False
    )
    buyer, _ = partner_add(
        code="demo-retail", name="Demo Retail", isa="ZZ:DEMORETAIL", with_token=False
    )
    LocationFactory(party=buyer.party, code="S001")
    ItemFactory(supplier=supplier.party, vendor_item="ACME-1001")


@pytest.fixture
def applied(world) -> tuple[Interchange, bytes]:
    data = interchange([WEEK], control=7)
    return ingest(data, name="week.edi"), data


@pytest.fixture
def failed(world) -> Interchange:
    received = interchange_receive(
        source=interchange([WEEK], control=8), transport="cli", source_name="w.edi", actor="t"
    )
    interchange_fail(interchange_id=received.pk, actor="test", reason="OperationalError: gone")
    received.refresh_from_db()
    assert received.status == Interchange.Status.FAILED
    return received


def test_partner_manager_downloads_the_raw_file_unchanged(applied):
    ix, data = applied
    client = client_for("edi-ops", "partner_manager")

    response = client.get(f"{CHANGELIST}{ix.pk}/raw/")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert response["Content-Disposition"] == f'attachment; filename="interchange-{ix.pk}.x12"'


def test_partner_manager_downloads_the_997_that_was_sent(applied):
    ix, _ = applied
    client = client_for("edi-ops", "partner_manager")

    response = client.get(f"{CHANGELIST}{ix.pk}/ack/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/edi-x12"
    assert response.content.decode() == ix.ack
    assert "ST*997*" in ix.ack and "AK1*PD*7" in ix.ack
    assert f'filename="interchange-{ix.pk}-ack.x12"' in response["Content-Disposition"]


def test_the_change_page_links_both_downloads(applied):
    ix, _ = applied
    client = client_for("edi-ops", "partner_manager")

    page = client.get(f"{CHANGELIST}{ix.pk}/change/").content.decode()

    assert f'href="{CHANGELIST}{ix.pk}/raw/"' in page
    assert f'href="{CHANGELIST}{ix.pk}/ack/"' in page


def test_no_997_to_download_for_an_interchange_not_yet_processed(failed):
    client = client_for("edi-ops", "partner_manager")

    assert client.get(f"{CHANGELIST}{failed.pk}/ack/").status_code == 404


@pytest.mark.parametrize("view", ["raw", "ack"])
def test_staff_without_the_view_permission_cannot_download(applied, view):
    ix, _ = applied
    client = client_for("planner", "planner")  # staff, but no smi_edi.view_interchange

    response = client.get(f"{CHANGELIST}{ix.pk}/{view}/")

    assert response.status_code == 403
    assert b"ISA*" not in response.content


@pytest.mark.parametrize("view", ["raw", "ack"])
def test_non_staff_and_anonymous_users_are_sent_to_the_login_page(applied, view):
    ix, _ = applied
    url = f"{CHANGELIST}{ix.pk}/{view}/"

    for client in (Client(), client_for("outsider", "partner_manager", staff=False)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def reprocess(client: Client, *pks: int):
    return client.post(
        CHANGELIST,
        {"action": "reprocess", "_selected_action": [str(pk) for pk in pks]},
        follow=True,
    )


def test_reprocess_runs_a_failed_interchange_again(failed):
    client = client_for("edi-admin", "partner_manager", perms=("change_interchange",))

    response = reprocess(client, failed.pk)

    failed.refresh_from_db()
    assert failed.status == Interchange.Status.APPLIED
    assert failed.activity_rows == 2
    messages = [str(m) for m in response.context["messages"]]
    assert messages == [f"interchange #{failed.pk} queued again"]
    change = failed.status_changes.filter(from_status="failed").get()
    assert (change.to_status, change.reason) == ("received", "processing again")


def test_reprocess_refuses_an_interchange_that_did_not_fail(applied):
    ix, _ = applied
    client = client_for("edi-admin", "partner_manager", perms=("change_interchange",))

    response = reprocess(client, ix.pk)

    ix.refresh_from_db()
    assert ix.status == Interchange.Status.APPLIED
    messages = [str(m) for m in response.context["messages"]]
    assert messages == [
        f"interchange #{ix.pk} is applied; only failed interchanges are processed again"
    ]


def test_reprocess_is_not_offered_to_staff_who_may_only_view(failed):
    client = client_for("edi-ops", "partner_manager")  # view_interchange, not change

    changelist = client.get(CHANGELIST)
    response = reprocess(client, failed.pk)

    assert changelist.status_code == 200
    assert changelist.context["action_form"] is None  # no action this user may run
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == []
    failed.refresh_from_db()
    assert failed.status == Interchange.Status.FAILED
    assert not failed.status_changes.filter(from_status="failed").exists()
