"""Consignment settlement, worked by hand: a month of 852 consumption priced at the agreed
prices and invoiced (with the sets it came from), the stock-drop basis, preparing again
never billing twice, SoD (the preparer may not approve, superuser or not), issuing an 810
validated by our maps and delivered to the buyer's folder, and memos that correct an
issued invoice without touching it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from smi_core.models import (
    AgreementTerm,
    AuditEvent,
    ExceptionItem,
    Remittance,
    SettlementInvoice,
    SupplyAgreement,
)
from smi_core.services.audit import Actor
from smi_core.services.roles import roles_ensure, user_roles_set
from smi_core.services.settlement import (
    MemoLine,
    NothingToSettle,
    SettlementDocumentInvalid,
    SettlementRefused,
    settlement_approve,
    settlement_cycle,
    settlement_issue,
    settlement_memo_create,
    settlement_prepare,
)
from smi_core.services.sod import SodViolation
from smi_edi.models import InboundSet, OutboundDocument
from smi_edi.services.partners import partner_add
from smi_edi.services.raw_store import raw_path
from smi_edi.x12.reader import X12Reader
from smi_edi.x12.ts810 import read_810
from tests.factories import ItemFactory, LocationFactory
from tests.finance_world import week

pytestmark = pytest.mark.django_db
D = Decimal
User = get_user_model()
TODAY = date(2027, 3, 10)
_control = iter(range(5000, 90000))


def person(name: str, *roles: str, superuser: bool = False):
    user = User.objects.create_user(name, password="pw", is_staff=True, is_superuser=superuser)
    if roles:
        user_roles_set(user=user, roles=list(roles), actor=Actor.system("test"))
    return user


def report(buyer: str, start: str, end: str, store: str, lines: dict[str, list[str]]) -> None:
    week(
        buyer,
        start,
        end,
        store,
        [(f"VN*{item}", segments) for item, segments in lines.items()],
        control=next(_control),
    )


@pytest.fixture
def world(settings, tmp_path):
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    settings.SMI_OUTBOX_DIR = tmp_path / "outbox"
    settings.SMI_REPORTING_CURRENCY = "USD"
    roles_ensure()
    # SOD-06 is seeded by its migration; a transactional test before this one (even one
    # skipped on SQLite) ends with a flush of every table, so put the rule back
    import_module("smi_core.migrations.0016_settlement").add_rule(django_apps, None)
    supplier, _ = partner_add(code="acme", name="Acme", isa="ZZ:ACMESUPPLY", role="supplier")
    buyer, _ = partner_add(code="north", name="North Stores", isa="ZZ:NORTH")
    s1 = LocationFactory(party=buyer.party, code="S1")
    s2 = LocationFactory(party=buyer.party, code="S2")
    x = ItemFactory(supplier=supplier.party, vendor_item="X", gtin="")
    y = ItemFactory(supplier=supplier.party, vendor_item="Y", gtin="")
    agreement = SupplyAgreement.objects.create(
        code="acme-north",
        buyer=buyer.party,
        supplier=supplier.party,
        currency="USD",
        ownership=SupplyAgreement.Ownership.CONSIGNMENT,
        billing_cycle=SupplyAgreement.BillingCycle.MONTHLY,
        payment_terms_days=30,
        effective_from=date(2027, 1, 1),
    )
    AgreementTerm.objects.create(agreement=agreement, item=x, unit_cost=D("4.25"))
    AgreementTerm.objects.create(agreement=agreement, item=x, location=s2, unit_cost=D("4.00"))
    AgreementTerm.objects.create(agreement=agreement, item=y, unit_cost=D("12.50"))
    # The week to 01-31 belongs to January and the week to 03-07 to March: not February's.
    report("NORTH", "20270125", "20270131", "S1", {"X": ["ZA*QS*100*EA"]})
    for (start, end), x1, y1, x2 in zip(
        [
            ("20270201", "20270207"),
            ("20270208", "20270214"),
            ("20270215", "20270221"),
            ("20270222", "20270228"),
        ],
        [10, 12, 8, 15],
        [3, 0, 5, 2],
        [7, 7, 7, 7],
        strict=True,
    ):
        report("NORTH", start, end, "S1", {"X": [f"ZA*QS*{x1}*EA"], "Y": [f"ZA*QS*{y1}*EA"]})
        report("NORTH", start, end, "S2", {"X": [f"ZA*QS*{x2}*EA"]})
    report("NORTH", "20270301", "20270307", "S1", {"X": ["ZA*QS*50*EA"]})
    return {
        "agreement": agreement,
        "supplier": supplier,
        "buyer": buyer,
        "x": x,
        "y": y,
        "s1": s1,
        "s2": s2,
        "preparer": person("pat", "finance"),
        "approver": person("ann", "finance"),
    }


def _prepare(world, user=None, day=date(2027, 2, 15)):
    return settlement_prepare(
        agreement_id=world["agreement"].pk, day=day, user=user or world["preparer"], today=TODAY
    )


def test_a_month_of_consumption_is_priced_at_the_agreed_prices(world):
    invoice, created = _prepare(world)

    assert created
    assert (invoice.cycle_start, invoice.cycle_end) == (date(2027, 2, 1), date(2027, 2, 28))
    lines = [
        (ln.item.vendor_item, ln.location.code, ln.quantity, ln.unit_price, ln.amount)
        for ln in invoice.lines.order_by("line_number")
    ]
    # X at S1: 10 + 12 + 8 + 15 = 45 x 4.25 = 191.25 (January's 100, March's 50 not in it);
    # Y at S1: 3 + 0 + 5 + 2 = 10 x 12.50 = 125.00;
    # X at S2: 4 x 7 = 28 at S2's own price 4.00 = 112.00.
    assert lines == [
        ("X", "S1", D(45), D("4.25"), D("191.25")),
        ("Y", "S1", D(10), D("12.50"), D("125.00")),
        ("X", "S2", D(28), D("4.00"), D("112.00")),
    ]
    # 191.25 + 125.00 + 112.00 = 428.25
    assert (invoice.total, invoice.currency, invoice.status) == (D("428.25"), "USD", "proposed")
    # Each line names the 852 sets it came from: February's four S1 sets for X and Y, the
    # four S2 sets for X at S2.
    february = InboundSet.objects.filter(period_end__range=(date(2027, 2, 1), date(2027, 2, 28)))
    by_line = {ln.line_number: ln.source_sets for ln in invoice.lines.all()}
    assert len(by_line[1]) == len(by_line[2]) == len(by_line[3]) == 4
    assert set(by_line[1]) == set(by_line[2])
    assert set(by_line[1]).isdisjoint(by_line[3])
    assert sorted(invoice.source_sets) == sorted(february.values_list("pk", flat=True))
    assert len(invoice.source_sets) == 8
    assert AuditEvent.objects.filter(
        action="settlement.prepare", object_id=str(invoice.pk)
    ).exists()


def test_preparing_the_cycle_again_never_bills_twice(world):
    first, _ = _prepare(world)
    again, created = _prepare(world, day=date(2027, 2, 28))

    assert not created and again.pk == first.pk
    # Nothing changed, so nothing was rewritten.
    assert not AuditEvent.objects.filter(action="settlement.recompute").exists()
    assert SettlementInvoice.objects.filter(agreement=world["agreement"]).count() == 1
    # The database holds it too: a second invoice for the cycle cannot be written.
    with pytest.raises(IntegrityError), transaction.atomic():
        SettlementInvoice.objects.create(
            number="other",
            agreement=world["agreement"],
            buyer=first.buyer,
            supplier=first.supplier,
            cycle_start=first.cycle_start,
            cycle_end=first.cycle_end,
            currency="USD",
            total=D(1),
        )


def test_a_late_852_updates_a_proposed_invoice_but_not_an_approved_one(world):
    invoice, _ = _prepare(world)
    # A corrected report for the week to 02-28 at S1: X sold 20, not 15.
    report("NORTH", "20270222", "20270228", "S1", {"X": ["ZA*QS*20*EA"], "Y": ["ZA*QS*2*EA"]})
    again, _ = _prepare(world)
    # X at S1: 10 + 12 + 8 + 20 = 50 x 4.25 = 212.50; total 212.50 + 125.00 + 112.00.
    assert again.total == D("449.50")
    assert AuditEvent.objects.filter(action="settlement.recompute").count() == 1
    settlement_approve(invoice_id=invoice.pk, user=world["approver"])
    report("NORTH", "20270222", "20270228", "S1", {"X": ["ZA*QS*30*EA"], "Y": ["ZA*QS*2*EA"]})
    after, _ = _prepare(world)
    assert (after.total, after.status) == (D("449.50"), "approved")


def test_stock_drop_net_of_receipts_on_a_weekly_cycle(world):
    agreement = world["agreement"]
    agreement.billing_cycle = SupplyAgreement.BillingCycle.WEEKLY
    agreement.consumption_basis = SupplyAgreement.ConsumptionBasis.STOCK_DROP
    agreement.save()
    report("NORTH", "20270301", "20270307", "S2", {"Y": ["ZA*QA*100*EA"]})
    report("NORTH", "20270308", "20270314", "S2", {"Y": ["ZA*QR*50*EA", "ZA*QA*120*EA"]})

    invoice, _ = settlement_prepare(
        agreement_id=agreement.pk,
        day=date(2027, 3, 10),
        user=world["preparer"],
        today=date(2027, 3, 20),
    )

    # Y at S2, week 03-08..03-14: 100 on hand before + 50 received - 120 at the end = 30,
    # at 12.50 = 375.00.
    line = invoice.lines.get()
    assert (line.item.vendor_item, line.location.code, line.quantity) == ("Y", "S2", D(30))
    assert (line.amount, invoice.total) == (D("375.00"), D("375.00"))
    assert line.basis["opening"] == "100" and line.basis["received"] == "50"


def test_an_item_without_a_price_is_left_out_and_said_so(world):
    z = ItemFactory(supplier=world["supplier"].party, vendor_item="Z", gtin="")
    report("NORTH", "20270208", "20270214", "S2", {"Z": ["ZA*QS*4*EA"]})

    invoice, _ = _prepare(world)

    assert not invoice.lines.filter(item=z).exists()
    assert any("Z at S2: 4 consumed" in note for note in invoice.notes)


def test_refusals_name_the_problem(world):
    with pytest.raises(SettlementRefused, match="has not ended yet"):
        _prepare(world, day=date(2027, 3, 1))
    with pytest.raises(NothingToSettle, match="no consumption reported"):
        _prepare(world, day=date(2026, 12, 15))
    agreement = world["agreement"]
    agreement.ownership = SupplyAgreement.Ownership.BUYER_ON_RECEIPT
    agreement.save()
    with pytest.raises(SettlementRefused, match="not a consignment agreement"):
        _prepare(world)


def test_cycles():
    assert settlement_cycle(cycle="weekly", day=date(2027, 3, 10)) == (
        date(2027, 3, 8),
        date(2027, 3, 14),
    )
    assert settlement_cycle(cycle="monthly", day=date(2028, 2, 10)) == (
        date(2028, 2, 1),
        date(2028, 2, 29),
    )


@pytest.mark.parametrize("superuser", [False, True], ids=["finance user", "superuser"])
def test_the_preparer_may_not_approve(world, superuser):
    preparer = person("boss", "finance", superuser=superuser)
    invoice, _ = _prepare(world, user=preparer)

    with pytest.raises(SodViolation) as refused:
        settlement_approve(invoice_id=invoice.pk, user=preparer)

    assert refused.value.rule_codes == ["SOD-06"]
    invoice.refresh_from_db()
    assert invoice.status == "proposed"
    denial = AuditEvent.objects.get(action="settlement.approve.denied")
    assert denial.rule_codes == ["SOD-06"] and denial.actor == "boss"


def test_whoever_worked_the_figures_out_again_is_their_preparer(world):
    """Pat prepares; a late 852 comes in and Ann prepares the cycle again: the figures now
    on the invoice are Ann's, so Ann may not approve it and Pat may."""
    invoice, _ = _prepare(world)
    report("NORTH", "20270222", "20270228", "S1", {"X": ["ZA*QS*20*EA"], "Y": ["ZA*QS*2*EA"]})
    again, _ = _prepare(world, user=world["approver"])
    assert again.prepared_by == world["approver"]

    with pytest.raises(SodViolation) as refused:
        settlement_approve(invoice_id=invoice.pk, user=world["approver"])
    assert refused.value.rule_codes == ["SOD-06"]
    approved = settlement_approve(invoice_id=invoice.pk, user=world["preparer"])
    assert approved.status == "approved"


def test_an_unchanged_or_system_run_leaves_the_preparer_as_it_is(world):
    invoice, _ = _prepare(world)
    _prepare(world, user=world["approver"])  # same data: nothing worked out again
    report("NORTH", "20270222", "20270228", "S1", {"X": ["ZA*QS*20*EA"], "Y": ["ZA*QS*2*EA"]})
    settlement_prepare(agreement_id=world["agreement"].pk, day=date(2027, 2, 15), today=TODAY)
    invoice.refresh_from_db()
    assert invoice.prepared_by == world["preparer"]


def test_roles_a_rule_forbids_together_refuse_the_approval_as_for_proposals(world):
    """A rule added after someone was given both roles: they may not approve (the same
    check as a proposal's approval)."""
    from smi_core.models import SodRule

    both = person("both", "finance", "agreement_manager")
    SodRule.objects.create(
        code="SOD-PRICE",
        kind=SodRule.Kind.EXCLUSIVE_ROLES,
        parameters={"roles": ["finance", "agreement_manager"]},
        reason="Whoever sets the prices may not approve the bills.",
    )
    invoice, _ = _prepare(world)

    with pytest.raises(SodViolation) as refused:
        settlement_approve(invoice_id=invoice.pk, user=both)

    assert refused.value.rule_codes == ["SOD-PRICE"]
    invoice.refresh_from_db()
    assert invoice.status == "proposed"


def test_approving_needs_the_finance_role_even_for_a_superuser(world):
    invoice, _ = _prepare(world)
    root = person("root", superuser=True)

    with pytest.raises(SodViolation) as refused:
        settlement_approve(invoice_id=invoice.pk, user=root)
    assert refused.value.rule_codes == ["ROLE"]


def test_issue_sends_an_810_our_maps_accept_to_the_buyer(world, tmp_path):
    from smi_core.models import ItemCrossReference

    ItemCrossReference.objects.create(
        buyer=world["buyer"].party, item=world["x"], buyer_item="N-X1"
    )
    invoice, _ = _prepare(world)
    settlement_approve(invoice_id=invoice.pk, user=world["approver"])

    issued = settlement_issue(invoice_id=invoice.pk, user=world["approver"], today=TODAY)

    assert (issued.status, issued.invoice_date, issued.due_date) == (
        "issued",
        TODAY,
        date(2027, 4, 9),
    )
    document = issued.document
    assert (document.set_id, document.functional_id, document.status) == ("810", "IN", "sent")
    assert document.validation_errors == []
    written = list((tmp_path / "outbox" / "north").glob("810-north-*.x12"))
    assert len(written) == 1
    reader = X12Reader(raw_path(document.raw_file))
    segments = [s for s in reader.segments() if s[0] not in ("ISA", "GS", "GE", "IEA")]
    reader.close()
    back = read_810(segments)
    assert back.invoice_number == invoice.number
    assert back.total == D("428.25")
    assert (back.period_start, back.period_end) == (date(2027, 2, 1), date(2027, 2, 28))
    assert [(ln.quantity, ln.unit_price) for ln in back.lines] == [
        (D(45), D("4.25")),
        (D(10), D("12.50")),
        (D(28), D("4.00")),
    ]
    # Our item number, and the buyer's own where we know it; the location in the text.
    assert back.lines[0].product_ids == (("VN", "X"), ("IN", "N-X1"))
    assert back.lines[2].description == "consumed at S2"


def test_issue_refuses_what_is_not_approved(world):
    invoice, _ = _prepare(world)
    with pytest.raises(SettlementRefused, match="only approved"):
        settlement_issue(invoice_id=invoice.pk, user=world["approver"], today=TODAY)
    assert not OutboundDocument.objects.filter(set_id="810").exists()


def test_ers_issues_without_sending_an_810(world):
    agreement = world["agreement"]
    agreement.settlement_method = SupplyAgreement.SettlementMethod.ERS
    agreement.save()
    invoice, _ = _prepare(world)
    settlement_approve(invoice_id=invoice.pk, user=world["approver"])

    issued = settlement_issue(invoice_id=invoice.pk, user=world["approver"], today=TODAY)

    assert (issued.status, issued.method, issued.document) == ("issued", "ers", None)
    assert not OutboundDocument.objects.filter(set_id="810").exists()


def test_a_credit_memo_corrects_an_issued_invoice_without_editing_it(world):
    invoice, _ = _prepare(world)
    settlement_approve(invoice_id=invoice.pk, user=world["approver"])
    settlement_issue(invoice_id=invoice.pk, user=world["approver"], today=TODAY)

    memo = settlement_memo_create(
        original_id=invoice.pk,
        kind="credit_memo",
        lines=[MemoLine(world["x"].pk, world["s1"].pk, D(2), D("4.25"))],
        reason="two X returned damaged",
        user=world["preparer"],
    )
    settlement_approve(invoice_id=memo.pk, user=world["approver"])
    settlement_issue(invoice_id=memo.pk, user=world["approver"], today=TODAY)

    memo.refresh_from_db()
    invoice.refresh_from_db()
    # 2 x 4.25 = 8.50 credited; the invoice still says 428.25.
    assert (memo.total, memo.original_id, memo.status) == (D("-8.50"), invoice.pk, "issued")
    assert invoice.total == D("428.25")
    reader = X12Reader(raw_path(memo.document.raw_file))
    back = read_810([s for s in reader.segments() if s[0] not in ("ISA", "GS", "GE", "IEA")])
    reader.close()
    assert (back.transaction_type, back.original_invoice, back.total) == (
        "CR",
        invoice.number,
        D("8.50"),
    )


def test_a_memo_needs_an_issued_invoice_and_a_reason(world):
    invoice, _ = _prepare(world)
    line = MemoLine(world["x"].pk, world["s1"].pk, D(1), D(1))
    with pytest.raises(SettlementRefused, match="memos correct issued invoices"):
        settlement_memo_create(original_id=invoice.pk, kind="credit_memo", lines=[line], reason="x")
    with pytest.raises(SettlementRefused, match="needs a reason"):
        settlement_memo_create(original_id=invoice.pk, kind="credit_memo", lines=[line], reason=" ")


def test_an_810_our_maps_refuse_issues_nothing_and_says_why(world):
    invoice, _ = _prepare(world)
    settlement_approve(invoice_id=invoice.pk, user=world["approver"])
    # A buyer name longer than the 810's N102 allows (1-60 characters).
    party = world["buyer"].party
    party.name = "North Stores " + "N" * 70
    party.save()

    with pytest.raises(Exception, match="failed our validation"):
        settlement_issue(invoice_id=invoice.pk, user=world["approver"], today=TODAY)

    invoice.refresh_from_db()
    assert (invoice.status, invoice.document) == ("approved", None)
    problem = ExceptionItem.objects.get(kind="document_invalid")
    assert problem.subject == f"810 for {invoice.number}"


def test_the_admin_lists_settlements_and_its_buttons_call_the_services(world, client):
    from smi_core.services.fx import finance_access_grant

    invoice, _ = _prepare(world)
    url = f"/admin/smi_core/settlementinvoice/{invoice.pk}/change/"
    for user in (world["preparer"], world["approver"]):  # finance users see granted parties
        finance_access_grant(user=user, party=world["buyer"].party, actor=Actor.system("test"))

    client.force_login(world["preparer"])
    listing = client.get("/admin/smi_core/settlementinvoice/").content.decode()
    page = client.get(url).content.decode()
    refused = client.post(f"/admin/smi_core/settlementinvoice/{invoice.pk}/approve/", follow=True)

    assert invoice.number in listing and "USD 428.25" in listing
    assert 'id="approve-button"' in page and "[SOD-06]" in page
    assert "Refused by SoD rule(s) SOD-06" in refused.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == "proposed"

    client.force_login(world["approver"])
    client.post(f"/admin/smi_core/settlementinvoice/{invoice.pk}/approve/")
    page = client.get(url).content.decode()
    assert 'id="issue-button"' in page
    issued = client.post(f"/admin/smi_core/settlementinvoice/{invoice.pk}/issue/", follow=True)
    invoice.refresh_from_db()
    assert invoice.status == "issued" and "810 ISA13" in issued.content.decode()
    assert client.get(f"/admin/smi_core/settlementinvoice/{invoice.pk}/issue/").status_code == 405


def test_a_finance_user_sees_only_the_settlements_of_granted_parties(world, client):
    from smi_core.services.fx import finance_access_grant

    invoice, _ = _prepare(world)
    outsider = person("olga", "finance")
    client.force_login(outsider)
    assert invoice.number not in client.get("/admin/smi_core/settlementinvoice/").content.decode()
    finance_access_grant(user=outsider, party=world["buyer"].party, actor=Actor.system("test"))
    assert invoice.number in client.get("/admin/smi_core/settlementinvoice/").content.decode()


def test_the_api_prepares_approves_issues_and_corrects(world, monkeypatch):
    from types import SimpleNamespace

    from django.utils import timezone
    from rest_framework.test import APIClient

    # The services' clock: today is 2027-03-10, after February's cycle.
    clock = SimpleNamespace(localdate=lambda: TODAY, now=timezone.now)
    monkeypatch.setattr("smi_core.services.settlement.timezone", clock)

    preparer, approver = APIClient(), APIClient()
    root = person("root-fin", "finance", superuser=True)
    preparer.force_authenticate(root)
    approver.force_authenticate(world["approver"])
    from smi_core.services.fx import finance_access_grant

    finance_access_grant(
        user=world["approver"], party=world["buyer"].party, actor=Actor.system("test")
    )

    made = preparer.post(
        "/api/v1/settlements/prepare/",
        {"agreement": "acme-north", "day": "2027-02-10"},
        format="json",
    )
    again = preparer.post(
        "/api/v1/settlements/prepare/",
        {"agreement": "acme-north", "day": "2027-02-20"},
        format="json",
    )
    pk = made.json()["id"]
    denied = preparer.post(f"/api/v1/settlements/{pk}/approve/")
    approved = approver.post(f"/api/v1/settlements/{pk}/approve/")
    issued = approver.post(f"/api/v1/settlements/{pk}/issue/")
    detail = approver.get(f"/api/v1/settlements/{pk}/").json()
    memo = preparer.post(
        f"/api/v1/settlements/{pk}/memo/",
        {
            "kind": "debit_memo",
            "reason": "one X at S2 not reported",
            "lines": [{"item": "X", "location": "S2", "quantity": "1", "unit_price": "4.00"}],
        },
        format="json",
    )

    assert made.status_code == 201 and made.json()["total"] == "428.25"
    assert again.status_code == 200 and again.json()["id"] == pk
    assert denied.status_code == 403 and denied.json()["rule_codes"] == ["SOD-06"]
    assert approved.json()["status"] == "approved"
    assert issued.status_code == 200 and issued.json()["status"] == "issued"
    assert [ln["quantity"] for ln in detail["lines"]] == ["45", "10", "28"]
    assert memo.status_code == 201
    assert (memo.json()["kind"], memo.json()["total"], memo.json()["original"]) == (
        "debit_memo",
        "4.00",
        detail["number"],
    )
    listing = approver.get("/api/v1/settlements/?status=issued").json()
    assert [r["number"] for r in listing["results"]] == [detail["number"]]


def test_the_api_refuses_bad_input_and_strangers(world):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(person("root2", "finance", superuser=True))
    bad_day = client.post(
        "/api/v1/settlements/prepare/", {"agreement": "acme-north", "day": "soon"}, format="json"
    )
    unknown = client.post(
        "/api/v1/settlements/prepare/", {"agreement": "nope", "day": "2027-02-10"}, format="json"
    )
    client.force_authenticate(person("plan", "planner"))
    stranger = client.get("/api/v1/settlements/")

    assert bad_day.status_code == 400 and "day" in bad_day.json()["message"]
    assert unknown.status_code == 404
    assert stranger.status_code == 403


def test_the_settle_command_prepares_approves_issues_and_lists(world, monkeypatch):
    import io
    from types import SimpleNamespace

    from django.core.management import CommandError, call_command
    from django.utils import timezone

    clock = SimpleNamespace(localdate=lambda: TODAY, now=timezone.now)
    monkeypatch.setattr("smi_core.services.settlement.timezone", clock)
    out = io.StringIO()

    call_command(
        "settle",
        "prepare",
        "--agreement",
        "acme-north",
        "--day",
        "2027-02-01",
        "--as",
        "pat",
        stdout=out,
    )
    invoice = SettlementInvoice.objects.get()
    with pytest.raises(CommandError, match=r"denied \(SOD-06\)"):
        call_command("settle", "approve", str(invoice.pk), "--as", "pat")
    call_command("settle", "approve", str(invoice.pk), "--as", "ann", stdout=out)
    call_command("settle", "issue", str(invoice.pk), "--as", "ann", stdout=out)
    call_command("settle", "list", "--status", "issued", stdout=out)
    call_command("settle", "show", str(invoice.pk), stdout=out)

    call_command(
        "settle", "pay", "--invoice", invoice.number, "--trace", "CHQ-7", "--date",
        "2027-04-02", "--amount", "400.00", "--as", "ann", stdout=out,
    )  # fmt: skip
    call_command(
        "settle", "pay", "--invoice", invoice.number, "--trace", "CHQ-7", "--date",
        "2027-04-02", "--amount", "400.00", stdout=out,
    )  # fmt: skip

    text = out.getvalue()
    assert (
        f"USD 400.00 from north on 2027-04-02 applied to {invoice.number}: USD 28.25 open" in text
    )
    assert "payment CHQ-7 was recorded already; nothing changed" in text
    with pytest.raises(CommandError, match="must be above 0"):
        call_command(
            "settle", "pay", "--invoice", invoice.number, "--trace", "X", "--date",
            "2027-04-02", "--amount", "-5",
        )  # fmt: skip
    with pytest.raises(CommandError, match="is a code of 1 to 3 letters"):
        call_command(
            "settle", "pay", "--invoice", invoice.number, "--trace", "X", "--date",
            "2027-04-02", "--amount", "5", "--method", "CHEQUE",
        )  # fmt: skip
    assert not Remittance.objects.filter(trace_number="X").exists()
    assert f"{invoice.number} proposed: north owes USD 428.25" in text
    assert f"{invoice.number} approved by ann" in text
    assert f"{invoice.number} issued, due 2027-04-09; 810 ISA13" in text
    assert "USD 191.25" in text  # the show's first line
    # shown again after the payment: who did what, the dates, the amounts and payments
    shown = io.StringIO()
    call_command("settle", "show", str(invoice.pk), stdout=shown)
    page = shown.getvalue()
    assert "invoice date 2027-03-10, due 2027-04-09" in page
    assert "total USD 428.25, paid USD 400.00, open USD 28.25" in page
    assert "prepared by pat on " in page and "approved by ann on " in page
    assert "CHQ-7" in page and "2027-04-02" in page and "USD 400.00" in page
    assert "None" not in page
    with pytest.raises(CommandError, match="is not a date"):
        call_command("settle", "prepare", "--agreement", "acme-north", "--day", "02/01")


def test_an_810_that_cannot_be_written_issues_nothing_and_says_why(world):
    invoice, _ = _prepare(world)
    settlement_approve(invoice_id=invoice.pk, user=world["approver"])
    # Net terms the 810's ITD cannot carry (0 to 999 days).
    agreement = world["agreement"]
    agreement.payment_terms_days = 1200
    agreement.save()

    with pytest.raises(SettlementDocumentInvalid, match="terms days 1200"):
        settlement_issue(invoice_id=invoice.pk, user=world["approver"], today=TODAY)

    invoice.refresh_from_db()
    assert invoice.status == "approved"
    assert ExceptionItem.objects.filter(kind="document_invalid").count() == 1


def test_due_cycles_are_the_ended_ones_not_yet_invoiced(world):
    from smi_core.services.settlement import settlement_cycles_due

    agreement = world["agreement"]  # monthly, in effect from 2027-01-01
    due = settlement_cycles_due(agreement=agreement, today=date(2027, 3, 10))
    assert due == [
        (date(2027, 1, 1), date(2027, 1, 31)),
        (date(2027, 2, 1), date(2027, 2, 28)),
    ]
    _prepare(world)
    assert settlement_cycles_due(agreement=agreement, today=date(2027, 3, 10)) == [
        (date(2027, 1, 1), date(2027, 1, 31))
    ]


def test_settle_prepare_due_invoices_every_ended_cycle_once(world, monkeypatch):
    import io
    from types import SimpleNamespace

    from django.core.management import call_command
    from django.utils import timezone

    clock = SimpleNamespace(localdate=lambda: TODAY, now=timezone.now)
    monkeypatch.setattr("smi_core.services.settlement.timezone", clock)
    monkeypatch.setattr("smi_core.management.commands.settle.timezone", clock)
    out = io.StringIO()

    call_command("settle", "prepare", "--due", stdout=out)
    call_command("settle", "prepare", "--due", stdout=out)

    # January: X sold 100 at S1 in the week to 01-31 (100 x 4.25); February as above.
    totals = dict(SettlementInvoice.objects.values_list("cycle_start", "total"))
    assert totals == {date(2027, 1, 1): D("425.00"), date(2027, 2, 1): D("428.25")}
    assert out.getvalue().count("proposed") == 2


def test_a_cycle_the_reports_do_not_cover_says_so(world):
    invoice, _ = settlement_prepare(
        agreement_id=world["agreement"].pk,
        day=date(2027, 3, 1),
        user=world["preparer"],
        today=date(2027, 4, 5),
    )

    # March: only the week to 03-07 is reported (X 50 at S1, 50 x 4.25 = 212.50).
    assert invoice.total == D("212.50")
    assert any("reach 2027-03-07, not the cycle's end 2027-03-31" in n for n in invoice.notes)


def test_a_resent_810_is_the_settlements_document(world):
    from smi_edi.services.outbound import outbound_resend

    invoice, _ = _prepare(world)
    settlement_approve(invoice_id=invoice.pk, user=world["approver"])
    first = settlement_issue(invoice_id=invoice.pk, user=world["approver"], today=TODAY).document

    again = outbound_resend(document_id=first.pk, actor=Actor.system("test"))
    invoice.refresh_from_db()
    assert (invoice.document_id, again.resent_from_id) == (again.pk, first.pk)
    assert again.interchange_control_number != first.interchange_control_number
    # and that one can be resent in turn (its sender is the settlement's supplier)
    third = outbound_resend(document_id=again.pk, actor=Actor.system("test"))
    invoice.refresh_from_db()
    assert invoice.document_id == third.pk
    # every send names its settlement, so the first can be resent once more too
    fourth = outbound_resend(document_id=first.pk, actor=Actor.system("test"))
    invoice.refresh_from_db()
    assert invoice.document_id == fourth.pk
    assert set(invoice.outbound_documents.values_list("pk", flat=True)) == {
        d.pk for d in (first, again, third, fourth)
    }
