"""The exceptions admin: the resolve action for planners, refused to those who may only look."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from smi_core.models import AuditEvent, ExceptionItem
from smi_core.services.audit import Actor
from smi_core.services.exceptions import exception_raise
from smi_core.services.roles import user_roles_set
from tests.factories import PartyFactory

pytestmark = pytest.mark.django_db
User = get_user_model()
CHANGELIST = "/admin/smi_core/exceptionitem/"


def login(name: str, *roles: str, staff: bool = True):
    user = User.objects.create_user(name, password="pw", is_staff=staff)
    if roles:
        user_roles_set(user=user, roles=list(roles), actor=Actor.system("test"))
    client = Client()
    client.force_login(user)
    return client, user


@pytest.fixture
def open_exceptions() -> list[ExceptionItem]:
    buyer = PartyFactory(code="demo-retail")
    return [
        exception_raise(
            kind=ExceptionItem.Kind.UNKNOWN_ITEM,
            partner=buyer,
            subject=subject,
            message=f"quantities for {subject} were not applied",
            action="add the item",
        )
        for subject in ("VN:ACME-9001", "VN:ACME-9002", "VN:ACME-9003")
    ]


def resolve(client: Client, *exceptions: ExceptionItem):
    return client.post(
        CHANGELIST,
        {"action": "resolve", "_selected_action": [str(e.pk) for e in exceptions]},
        follow=True,
    )


def test_a_planner_resolves_the_selected_exceptions(open_exceptions):
    client, planner = login("planner", "planner")
    first, second, third = open_exceptions

    response = resolve(client, first, second)

    assert [str(m) for m in response.context["messages"]] == ["2 exception(s) resolved"]
    for exception in (first, second):
        exception.refresh_from_db()
        assert exception.status == ExceptionItem.Status.RESOLVED
        assert exception.resolved_by == planner
        assert exception.resolved_at is not None
        assert exception.resolution_note == "resolved in the admin"
    third.refresh_from_db()
    assert third.status == ExceptionItem.Status.OPEN
    events = AuditEvent.objects.filter(action="exception.resolve").order_by("id")
    assert {(e.actor, e.object_id) for e in events} == {
        ("planner", str(first.pk)),
        ("planner", str(second.pk)),
    }
    assert events[0].before == {"status": "open"} and events[0].ip == "127.0.0.1"


def test_resolving_an_already_resolved_exception_warns_and_resolves_the_rest(open_exceptions):
    client, _ = login("planner", "planner")
    first, second, _third = open_exceptions
    resolve(client, first)

    response = resolve(client, first, second)

    assert [str(m) for m in response.context["messages"]] == [
        f"exception #{first.pk} is already resolved",
        "1 exception(s) resolved",
    ]
    second.refresh_from_db()
    assert second.status == ExceptionItem.Status.RESOLVED


def test_an_auditor_sees_the_queue_but_cannot_resolve(open_exceptions):
    client, _ = login("auditor", "auditor")  # every view_* permission, no change

    changelist = client.get(CHANGELIST)
    response = resolve(client, *open_exceptions)

    assert changelist.status_code == 200
    assert changelist.context["cl"].result_count == 3
    assert changelist.context["action_form"] is None
    assert [str(m) for m in response.context["messages"]] == []
    assert set(ExceptionItem.objects.values_list("status", flat=True)) == {"open"}


def test_staff_without_a_role_are_refused_the_queue(open_exceptions):
    client, _ = login("shipper", "shipper")  # no exceptionitem permission at all

    assert client.get(CHANGELIST).status_code == 403
    assert resolve(client, *open_exceptions).status_code == 403
    assert set(ExceptionItem.objects.values_list("status", flat=True)) == {"open"}


def test_non_staff_users_are_sent_to_the_login_page(open_exceptions):
    client, _ = login("planner-no-staff", "planner", staff=False)

    response = client.post(
        CHANGELIST, {"action": "resolve", "_selected_action": [open_exceptions[0].pk]}
    )

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert set(ExceptionItem.objects.values_list("status", flat=True)) == {"open"}
