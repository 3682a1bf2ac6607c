"""Load the demo data that `make run` shows. Idempotent: running it again changes nothing."""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from smi_core.models import ExceptionItem, Location, Party, ReplenishmentProposal
from smi_core.services.agreements import agreements_import
from smi_core.services.audit import Actor
from smi_core.services.fx import fx_load
from smi_core.services.items import items_import
from smi_core.services.roles import ROLES, user_roles_set
from smi_edi.models import Interchange
from smi_edi.services.interchanges import interchange_enqueue, interchange_receive
from smi_edi.services.partners import partner_add

DEMO_ADMIN = "admin"
SAMPLES = Path(settings.BASE_DIR) / "samples"
SUPPLIER = ("acme-supply", "Acme Supply", "ZZ:ACMESUPPLY")
BUYERS = [
    ("demo-retail", "Demo Retail", "ZZ:DEMORETAIL"),
    ("city-mart", "City Mart", "ZZ:CITYMART"),
    ("acme-stores-eu", "Acme Stores Europe", "ZZ:ACMESTORESEU"),
]
LOCATIONS = {
    "demo-retail": [
        ("DC01", "Demo Retail DC", "dc", "0614141000012"),
        ("S001", "Store 1 Main Street", "store", "0614141000029"),
        ("S002", "Store 2 Harbour", "store", "0614141000036"),
        ("S003", "Store 3 Station Road", "store", "0614141000043"),
        ("S004", "Store 4 Market Square", "store", "0614141000050"),
    ],
    "city-mart": [
        ("CM-DC", "City Mart DC", "dc", ""),
        ("CM-01", "City Mart Downtown", "store", ""),
        ("CM-02", "City Mart Riverside", "store", ""),
    ],
    "acme-stores-eu": [
        ("EU-DC", "Acme Stores Europe DC", "dc", ""),
        ("EU-BER", "Acme Store Berlin", "store", ""),
        ("EU-PAR", "Acme Store Paris", "store", ""),
    ],
}


class Command(BaseCommand):
    help = "Create (once) the demo superuser and demo data, and print the logins."

    def handle(self, *args, **options):
        with transaction.atomic():
            logins = _ensure_users()
            tokens = _ensure_partners()
            _ensure_locations()
            items_import(text=(SAMPLES / "items.csv").read_text())
            agreements_import(path=SAMPLES / "agreements.json")
            fx_load(text=(SAMPLES / "fx-rates.csv").read_text(), actor=Actor.system("demo_load"))
            _grant_finance()
        # -v 2 lists every file and document; by default one line each
        detail = options.get("verbosity", 1) >= 2
        for line in _summary(_ingest_samples(), detail, "sample 852 file(s) ingested"):
            self.stdout.write(f"  {line}")
        for line in _plan_as_of_latest_data():
            self.stdout.write(f"  {line}")
        for line in _summary(_demo_order(), detail, "document(s) sent to the buyer"):
            self.stdout.write(f"  {line}")
        for line in _demo_settlements():
            self.stdout.write(f"  {line}")
        self.stdout.write(f"  {_index_agreements()}")
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self.stdout.write("  logins (start at / or /admin/), one user per role:")
        for username, password in logins.items():
            role = "superuser" if username == DEMO_ADMIN else f"role {username}"
            self.stdout.write(f"    {username:<18} {password:<20} ({role})")
        for code, token in tokens.items():
            self.stdout.write(f"  API token of partner {code}: {token}")


def _credentials_file():
    return settings.VAR_DIR / "demo-credentials.json"


def _ensure_users() -> dict[str, str]:
    """The demo superuser and one staff user per role, named after the role. Passwords are
    made up on first load and kept under var/ (never in the repository), so each
    `make run` can print them again; a password someone has changed since is left alone."""
    User = get_user_model()
    path = _credentials_file()
    stored = json.loads(path.read_text()) if path.exists() else {}
    shown = {}
    for username in [DEMO_ADMIN, *ROLES]:
        user = User.objects.filter(username=username).first()
        if user is not None:
            password = stored.get(username, "")
            shown[username] = (
                password if password and user.check_password(password) else "(changed; not shown)"
            )
            continue
        password = stored.get(username) or secrets.token_urlsafe(12)
        user = User(
            username=username,
            email=f"{username}@example.com",
            is_staff=True,
            is_superuser=username == DEMO_ADMIN,
        )
        user.set_password(password)
        user.save()
        if username != DEMO_ADMIN:
            user_roles_set(user=user, roles=[username], actor=Actor.system("demo_load"))
        stored[username] = password
        shown[username] = password
    path.write_text(json.dumps(stored, indent=2) + "\n")
    path.chmod(0o600)
    return shown


def _summary(lines: list[str], detail: bool, what: str) -> list[str]:
    """The per-file (or per-document) lines, each marked with a leading "- ", as one count
    unless ``detail``; the other lines as they are."""
    items = [line.removeprefix("- ") for line in lines if line.startswith("- ")]
    rest = [line for line in lines if not line.startswith("- ")]
    if detail or not items:
        return items + rest
    trouble = [i for i in items if " applied," not in i and ": sent " not in i]
    return [f"{len(items)} {what} (-v 2 lists them)", *trouble, *rest]


def _ensure_partners() -> dict[str, str]:
    """The supplier we act for and the buyers whose stock it manages."""
    code, name, isa = SUPPLIER
    tokens = {code: partner_add(code=code, name=name, isa=isa, role="supplier")[1]}
    for code, name, isa in BUYERS:
        tokens[code] = partner_add(code=code, name=name, isa=isa, role="buyer", cadence="weekly")[1]
    return tokens


def _grant_finance() -> None:
    """The demo finance user sees everything of the supplier we act for."""
    from smi_core.services.fx import finance_access_grant

    finance_access_grant(
        user=get_user_model().objects.get(username="finance"),
        party=Party.objects.get(code=SUPPLIER[0]),
        actor=Actor.system("demo_load"),
    )


def _ensure_locations() -> None:
    for buyer_code, locations in LOCATIONS.items():
        buyer = Party.objects.get(code=buyer_code)
        for code, name, kind, gln in locations:
            Location.objects.get_or_create(
                party=buyer, code=code, defaults={"name": name, "kind": kind, "gln": gln}
            )


def _ingest_samples() -> list[str]:
    """Each sample 852 goes through the real pipeline once (store, validate, 997, apply),
    without the planning each applied 852 queues as of today: the samples are fixed weeks,
    planned once afterwards as of their latest date (``_plan_as_of_latest_data``)."""
    from smi_core.services.hooks import positions_listener_suspended
    from smi_core.services.planning import planning_after_positions_changed

    with positions_listener_suspended(planning_after_positions_changed):
        lines = _ingest_each_sample()
    return lines


def _ingest_each_sample() -> list[str]:
    lines = []
    for path in sorted((SAMPLES / "852").glob("*.edi")):
        data = path.read_bytes()
        sha256 = hashlib.sha256(data).hexdigest()
        existing = Interchange.objects.filter(sha256=sha256, duplicate_of__isnull=True).first()
        if existing is None:
            existing = interchange_receive(
                source=data,
                transport=Interchange.Transport.CLI,
                source_name=path.name,
                actor="cli:demo_load",
            )
            interchange_enqueue(existing)
            existing.refresh_from_db()
        lines.append(
            f"- {path.name}: interchange #{existing.pk} {existing.status}, {existing.activity_rows} activity rows"
        )
    return lines


def _plan_as_of_latest_data() -> list[str]:
    """Plan as of the date of the latest 852 data, not the day the demo is loaded: the
    samples are fixed weeks, so planning as of today would call every partner stale.
    Finance figures are shown as of the same date: it becomes the reporting date, which
    every report without a date defaults to."""
    from django.db.models import Max

    from smi_core.models import StockLevel
    from smi_core.services.planning import plan_replenishment

    latest = StockLevel.objects.aggregate(latest=Max("period_end"))["latest"]
    if latest is None:
        return ["no 852 data to plan from"]
    plan_replenishment(as_of=latest, actor="system:demo_load")
    proposals = ReplenishmentProposal.objects.filter(
        status=ReplenishmentProposal.Status.PROPOSED
    ).count()
    exceptions = ExceptionItem.objects.filter(status=ExceptionItem.Status.OPEN).count()
    return [
        f"planned as of {latest}, the date of the latest 852 data: {proposals} open "
        f"replenishment proposal(s), {exceptions} open exception(s)",
        _reporting_date(latest),
    ]


DEMO_ACTOR = "demo_load"


def _reporting_date(latest) -> str:
    """The reporting date set to the latest data's date, so the first screens (and
    ``finance_report`` and the assistant) report as of the samples' last week, not today.
    Idempotent; newer data moves it. A date someone else set is left as it is."""
    from django.utils import timezone

    from smi_core.selectors.reporting_date import reporting_date_current
    from smi_core.services.reporting_date import reporting_date_set

    current = reporting_date_current()
    if current and current.date and current.set_by != f"system:{DEMO_ACTOR}":
        return (
            f"reporting date left at {current.date} (set by {current.set_by}); the latest "
            f"data is of {latest}: /finance/?as_of={latest}"
        )
    if latest > timezone.localdate():
        return f"reporting date not set: the latest data ({latest}) is after today"
    reporting_date_set(
        day=latest,
        note="the date of the demo's latest 852 data",
        actor=Actor.system(DEMO_ACTOR),
    )
    return (
        f"reporting date set to {latest}: /finance/, the API, `finance_report` and the "
        "assistant report as of it unless asked for another day (admin: Reporting date)"
    )


def _demo_order() -> list[str]:
    """One proposal all the way through (once): approved by `approver`, confirmed with an
    855, shipped by `shipper` with an 856 written to the buyer's outbox folder."""
    from smi_edi.models import OutboundDocument
    from smi_edi.services.order_documents import order_acknowledge, order_ship

    P = ReplenishmentProposal.Status
    User = get_user_model()
    order = ReplenishmentProposal.objects.exclude(po_number="").order_by("pk").first()
    if order is None:
        proposal = (
            ReplenishmentProposal.objects.filter(status=P.PROPOSED, buyer__code="demo-retail")
            .order_by("pk")
            .first()
        )
        if proposal is None:
            return ["no proposal to take through approval, 855 and 856"]
        from smi_core.services.proposals import proposal_approve

        proposal_approve(proposal_id=proposal.pk, user=User.objects.get(username="approver"))
        order = ReplenishmentProposal.objects.get(pk=proposal.pk)
    if order.status == P.APPROVED:
        order_acknowledge(order_id=order.pk, actor=Actor.system("demo_load"))
        order.refresh_from_db()
    if order.status == P.ORDERED:
        shipper = User.objects.get(username="shipper")
        order_ship(po_number=order.po_number, user=shipper, actor=Actor.user(shipper))
        order.refresh_from_db()
    documents = OutboundDocument.objects.filter(partner__party=order.buyer).order_by("pk")
    lines = [f"order {order.po_number} (proposal #{order.pk}) is {order.status}"]
    for document in documents:
        lines.append(
            f"- {document.set_id} ISA13 {document.interchange_control_number}: {document.status}"
            f" -> {settings.SMI_OUTBOX_DIR / order.buyer.code}"
        )
    return lines


def _demo_settlements() -> list[str]:
    """Consignment settlements proposed for each billing cycle the sample 852s cover in full
    (by the system, so the `finance` user may approve and issue them in the admin), as of
    the day after the latest data like the plan; once."""
    from datetime import timedelta

    from django.db.models import Max

    from smi_core.models import SettlementInvoice, StockLevel, SupplyAgreement
    from smi_core.services.settlement import (
        NothingToSettle,
        settlement_cycles_due,
        settlement_prepare,
    )

    latest = StockLevel.objects.aggregate(latest=Max("period_end"))["latest"]
    if latest is None:
        return ["no 852 data to settle"]
    today = latest + timedelta(days=1)
    for agreement in SupplyAgreement.objects.filter(
        ownership=SupplyAgreement.Ownership.CONSIGNMENT
    ).order_by("code"):
        for start, _ in settlement_cycles_due(agreement=agreement, today=today):
            try:
                settlement_prepare(
                    agreement_id=agreement.pk,
                    day=start,
                    actor=Actor.system("demo_load"),
                    today=today,
                )
            except NothingToSettle:
                continue
    waiting = SettlementInvoice.objects.filter(status=SettlementInvoice.Status.PROPOSED)
    numbers = ", ".join(waiting.order_by("number").values_list("number", flat=True)[:5])
    return [
        f"{waiting.count()} consignment settlement(s) proposed"
        + (f" ({numbers}): approve and issue them as `finance` in the admin" if numbers else "")
    ]


def _index_agreements() -> str:
    """The assistant's clauses (agreements_import indexes what it changes; this covers a
    fresh vector store directory)."""
    from reporting_assistant.models import AgreementClause
    from reporting_assistant.store import agreement_index
    from smi_core.models import SupplyAgreement

    if not AgreementClause.objects.exists():
        for agreement in SupplyAgreement.objects.all():
            agreement_index(agreement_id=agreement.pk)
    return f"{AgreementClause.objects.count()} agreement clauses indexed for the assistant (/assistant/)"
