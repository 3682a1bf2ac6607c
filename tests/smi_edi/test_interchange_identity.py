"""Whose file is it, and is it applied exactly once (issue 13, findings 1 and 2).

A refused upload in another partner's name is kept apart and never shadows that partner's
real file; the same file submitted many times at once is applied once, the others end as
duplicates with a reason."""

from __future__ import annotations

import threading
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from smi_core.models import ProductActivity
from smi_edi.models import Interchange, OutboundDocument, RefusedInterchange
from smi_edi.services.drop_folder import folder_poll
from smi_edi.services.interchanges import interchange_receive
from smi_edi.services.partners import partner_add
from tests.factories import ItemFactory, LocationFactory
from tests.pipeline import ingest
from tests.x12_builders import interchange, report_852

S = Interchange.Status
STORES = [f"S{n:03d}" for n in range(1, 21)]
BIG_ITEMS = 60
WEEK = report_852(
    lines=[("VN*ACME-1001", ["ZA*QA**EA", "SDQ*EA*92*S001*15", "ZA*QS**EA", "SDQ*EA*92*S001*7"])]
)


def _world() -> dict:
    supplier, _ = partner_add(code="acme-supply", name="Acme", isa="ZZ:ACMESUPPLY", role="supplier")
    buyer, buyer_token = partner_add(code="demo-retail", name="Demo Retail", isa="ZZ:DEMORETAIL")
    other, other_token = partner_add(code="other-retail", name="Other Retail", isa="ZZ:OTHERRETAIL")
    for store in STORES:
        LocationFactory(party=buyer.party, code=store)
    ItemFactory(supplier=supplier.party, vendor_item="ACME-1001")
    for i in range(BIG_ITEMS):
        ItemFactory(supplier=supplier.party, vendor_item=f"V-{i:03d}")
    return {"buyer": buyer, "other": other, "tokens": {"buyer": buyer_token, "other": other_token}}


@pytest.fixture
def world(db):
    return _world()


def client_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def post(token: str, data: bytes):
    return client_with(token).post(
        "/api/v1/interchanges/", data=data, content_type="application/edi-x12"
    )


# -- finding 1: a partner can block another partner's files ------------------------------


def test_a_refused_upload_in_another_partners_name_does_not_block_its_real_file(world):
    # given other-retail posts a file whose ISA sender is demo-retail, with ISA13 7
    forged = post(world["tokens"]["other"], interchange([WEEK], control=7))
    assert forged.status_code == 403

    # when demo-retail sends its real file with that ISA13
    real = post(world["tokens"]["buyer"], interchange([WEEK], control=7))

    # then the real file is applied, not a "duplicate" of the forged attempt
    assert real.status_code == 202, real.content
    body = real.json()
    assert (body["status"], body["duplicate_of"], body["activity_rows"]) == (S.APPLIED, None, 2)
    assert ProductActivity.objects.count() == 2


def test_a_partner_does_not_see_an_attempt_made_in_its_name(world):
    forged = post(world["tokens"]["other"], interchange([WEEK], control=8))
    real = post(world["tokens"]["buyer"], interchange([WEEK], control=9)).json()

    # demo-retail sees its own file and nothing of the forged attempt
    assert list(Interchange.objects.filter(sender=world["buyer"]).values_list("pk", flat=True)) == [
        real["id"]
    ]
    for pk in Interchange.objects.exclude(pk=real["id"]).values_list("pk", flat=True):
        assert (
            client_with(world["tokens"]["buyer"]).get(f"/api/v1/interchanges/{pk}/").status_code
            == 404
        )
    # the attempt is on record apart, for operators, with who made it and in whose name
    (attempt,) = RefusedInterchange.objects.all()
    assert forged.json()["refused_attempt"] == attempt.pk
    assert (attempt.submitted_as, attempt.sender_isa, attempt.control_number) == (
        world["other"],
        "ZZ:DEMORETAIL",
        "000000008",
    )
    assert "may send only as itself" in attempt.reason


def test_operators_see_refused_attempts_in_the_admin(world, admin_client):
    post(world["tokens"]["other"], interchange([WEEK], control=10))

    page = admin_client.get("/admin/smi_edi/refusedinterchange/")

    assert page.status_code == 200
    text = page.content.decode()
    assert "ZZ:DEMORETAIL" in text and "other-retail" in text


# -- finding 2: the same file at once is applied twice ------------------------------------


def test_the_database_refuses_a_second_claim_on_the_same_isa13(world):
    first = ingest(interchange([WEEK], control=11))
    assert first.claimed_at is not None
    second = interchange_receive(
        source=interchange([WEEK], control=11), transport="cli", source_name="b.edi", actor="t"
    )

    # a claim made by a query that could not see the first one is stopped by the database
    with pytest.raises(IntegrityError), transaction.atomic():
        Interchange.objects.filter(pk=second.pk).update(
            sender=first.sender, claimed_at=timezone.now()
        )


def test_a_second_copy_is_a_duplicate_with_a_reason_and_gets_no_997(world):
    first = ingest(interchange([WEEK], control=12))

    second = ingest(interchange([WEEK], control=12), name="again.edi")

    assert (second.status, second.duplicate_of_id, second.claimed_at) == (
        S.REJECTED,
        first.pk,
        None,
    )
    assert f"duplicate of interchange #{first.pk} (the same file" in second.status_reason
    assert OutboundDocument.objects.filter(acknowledges__in=[first, second]).count() == 1
    assert ProductActivity.objects.count() == 2


def _sdq(code: str, seed: int) -> list[str]:
    pairs = [f"{store}*{(seed * 7 + i) % 50}" for i, store in enumerate(STORES)]
    return [
        f"ZA*{code}**EA",
        "SDQ*EA*92*" + "*".join(pairs[:10]),
        "SDQ*EA*92*" + "*".join(pairs[10:]),
    ]


def _big_week() -> bytes:
    """One 852 with many rows, so that applying it takes long enough for copies to overlap."""
    lines = [(f"VN*V-{i:03d}", _sdq("QA", i) + _sdq("QS", i + 1)) for i in range(BIG_ITEMS)]
    return interchange([report_852(lines=lines)], control=21)


def _at_once(jobs: list) -> list[BaseException]:
    """Run every job in its own thread (own database connection), all released together."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job):
        try:
            barrier.wait(timeout=30)
            job()
        except BaseException as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a submission never finished"
    return errors


def _job(transport: str, n: int, data: bytes, token: str, tmp_path):
    """Send the file once through ``transport``, as a partner or an operator would."""
    if transport == "api":
        return lambda: post(token, data)
    if transport == "cli":
        path = tmp_path / f"cli-{n}.edi"
        path.write_bytes(data)
        return lambda: call_command("x12_ingest", str(path), stdout=StringIO())
    inbox = tmp_path / f"folder-{n}" / "inbox"
    inbox.mkdir(parents=True)
    # one name per copy: a folder file seen before under the same name and content is taken
    # as the same file (crash recovery) and not recorded again
    (inbox / f"week-{n}.edi").write_bytes(data)
    return lambda: folder_poll(inbox=inbox, settle_seconds=0)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "transports",
    [["api"] * 10, ["cli"] * 10, ["folder"] * 10, ["api"] * 4 + ["cli"] * 3 + ["folder"] * 3],
    ids=["api", "cli", "folder", "mixed"],
)
def test_the_same_file_sent_ten_times_at_once_is_applied_once(
    require_postgres, transports, tmp_path
):
    world = _world()
    data = _big_week()
    rows_of_one_set = BIG_ITEMS * 2 * len(STORES)
    token = world["tokens"]["buyer"]
    # one request first, so the threads do not race to import DRF's lazy settings
    assert client_with(token).get("/api/v1/interchanges/0/").status_code == 404
    jobs = [_job(t, n, data, token, tmp_path) for n, t in enumerate(transports)]

    errors = _at_once(jobs)

    assert errors == []
    copies = list(Interchange.objects.order_by("pk"))
    assert len(copies) == 10
    applied = [c for c in copies if c.status == S.APPLIED]
    assert len(applied) == 1, [(c.pk, c.status, c.status_reason) for c in copies]
    (winner,) = applied
    assert winner.activity_rows == rows_of_one_set
    assert ProductActivity.objects.count() == rows_of_one_set
    assert OutboundDocument.objects.filter(set_id__in=["997", "999"]).count() == 1
    for copy in copies:
        if copy.pk != winner.pk:
            assert (copy.status, copy.duplicate_of_id) == (S.REJECTED, winner.pk)
            assert f"duplicate of interchange #{winner.pk}" in copy.status_reason


@pytest.mark.django_db(transaction=True)
def test_two_weeks_of_one_buyer_applied_at_once_both_apply_and_the_newer_week_wins(
    require_postgres, tmp_path, monkeypatch
):
    # Both files create the same new positions, and both sets reach the positions merge
    # together (a barrier before the lock): the buyer's positions lock makes the second wait,
    # then update what the first inserted (without it, its plain INSERT meets the first
    # one's rows and the set fails).
    import smi_core.services.activity as activity
    from smi_core.models import InventoryPosition

    lock, together = activity.positions_lock, threading.Barrier(2)

    def lock_together(buyer_ids):
        together.wait(timeout=60)
        lock(buyer_ids)

    monkeypatch.setattr(activity, "positions_lock", lock_together)

    world = _world()
    lines = {
        week: [(f"VN*V-{i:03d}", _sdq("QA", i + 3 * (week - 1))) for i in range(BIG_ITEMS)]
        for week in (1, 2)
    }
    files = {
        1: interchange([report_852("20261102", "20261108", lines=lines[1])], control=31),
        2: interchange([report_852("20261109", "20261115", lines=lines[2])], control=32),
    }
    paths = []
    for week, data in files.items():
        path = tmp_path / f"week-{week}.edi"
        path.write_bytes(data)
        paths.append(path)
    jobs = [(lambda p=p: call_command("x12_ingest", str(p), stdout=StringIO())) for p in paths]

    assert _at_once(jobs) == []

    statuses = sorted(Interchange.objects.values_list("control_number", "status"))
    assert statuses == [("000000031", S.APPLIED), ("000000032", S.APPLIED)]
    positions = InventoryPosition.objects.filter(location__party=world["buyer"].party)
    assert positions.count() == BIG_ITEMS * len(STORES)
    assert set(positions.values_list("as_of", flat=True)) == {date(2026, 11, 15)}
    first = positions.get(item__vendor_item="V-000", location__code="S001")
    assert first.on_hand == 21  # week 2's (0 + 3) * 7 % 50, not week 1's 0
