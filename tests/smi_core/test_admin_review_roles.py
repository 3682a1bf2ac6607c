"""The read-only roles that review approvals (auditor, compliance) open proposal pages in the
admin and change nothing there; the admin names the hub in its header (issue 16)."""

from __future__ import annotations

import pytest

from smi_core.models import ReplenishmentProposal
from tests.orders import approved_order, build_world, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


@pytest.mark.parametrize("role", ["auditor", "compliance"])
def test_a_reviewing_role_opens_a_proposal_read_only(world, client, role):
    proposal = approved_order(world, approve=False)
    reviewer = person(f"{role}-user", role)
    client.force_login(reviewer)
    base = f"/admin/smi_core/replenishmentproposal/{proposal.pk}"

    listing = client.get("/admin/smi_core/replenishmentproposal/")
    page = client.get(f"{base}/change/")

    assert listing.status_code == 200
    assert proposal in listing.context["cl"].result_list
    assert page.status_code == 200
    html = page.content.decode()
    assert "ACME-1001" in html and "57.60 USD" in html  # its lines and value
    assert page.context["has_change_permission"] is False
    assert 'name="_save"' not in html  # no save button: view only
    assert not reviewer.has_perm("smi_core.change_replenishmentproposal")
    assert not reviewer.has_perm("smi_core.change_proposalline")
    # a change posted anyway is refused and nothing moves
    refused = client.post(f"{base}/change/", {"status": "cancelled"})
    assert refused.status_code == 403
    client.post(f"{base}/approve/")
    assert ReplenishmentProposal.objects.get(pk=proposal.pk).status == "proposed"


def test_the_admin_header_names_the_hub(client):
    client.force_login(person("boss", superuser=True))

    html = client.get("/admin/").content.decode()

    assert "Django administration" not in html
    assert "<title>Proposals, orders, partners and the audit trail | SMI Hub admin</title>" in html
    assert 'id="site-name"><a href="/admin/">SMI Hub</a>' in html


def test_compliance_grants_an_override_from_the_proposals_page(world, client):
    from smi_core.models import SodOverride
    from smi_core.services.proposals import override_request

    approver = world.users["approver"]
    proposal = approved_order(world, approve=False)
    ReplenishmentProposal.objects.filter(pk=proposal.pk).update(proposed_by=approver)
    override = override_request(
        proposal_id=proposal.pk,
        rule_codes=["SOD-01"],
        justification="planner on leave, store runs out Friday",
        user=approver,
    )
    client.force_login(person("compliance", "compliance"))
    base = f"/admin/smi_core/replenishmentproposal/{proposal.pk}"

    page = client.get(f"{base}/change/").content.decode()
    client.post(f"{base}/grant/", {"override": override.pk})

    assert "/grant/" in page  # the grant button is on the page it can now open
    assert SodOverride.objects.get(pk=override.pk).granted_by.username == "compliance"
    assert ReplenishmentProposal.objects.get(pk=proposal.pk).status == "proposed"
