"""Every interchange from a known partner ends in a final state with a reason: a GS that
breaks the standard rejects the group (naming the element), an answer we cannot write
rejects the interchange instead of leaving it 'received', and a crash at any step is
resumed, follow-ups (planning) included, by the next run of the task or by the sweep."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

import smi_edi.services.interchanges as interchanges
from smi_core.models import ProductActivity
from smi_core.services.hooks import _listeners, on_positions_changed
from smi_edi.models import InboundSet, Interchange, OutboundDocument
from smi_edi.services.interchanges import interchange_process, interchange_receive
from smi_edi.tasks import requeue_waiting_interchanges
from tests.smi_edi.test_ingest import WEEK, world  # noqa: F401 (fixture)
from tests.x12_builders import interchange

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("world")]
S = Interchange.Status


def receive(data: bytes) -> Interchange:
    return interchange_receive(source=data, transport="cli", source_name="t.edi", actor="test")


def gs(data: bytes, old: bytes, new: bytes) -> bytes:
    head, rest = data.split(b"\nGS*", 1)
    gs_segment, tail = rest.split(b"~", 1)
    assert old in gs_segment
    return head + b"\nGS*" + gs_segment.replace(old, new, 1) + b"~" + tail


@pytest.fixture
def planning_heard():
    heard = []
    listener = on_positions_changed(lambda **kw: heard.append(kw))
    yield heard
    _listeners.remove(listener)


# -- finding 3: a GS we cannot repeat, or that breaks the standard ---------------------

BAD_GS = [
    pytest.param(b"*X*004010", b"*X*004010VICSEXTRA", "GS08", id="gs08-longer-than-12"),
    pytest.param(b"*X*004010", b"*X*0040\t10", "GS08", id="tab-in-gs08"),
    pytest.param(
        b"PD*DEMORETAIL*", "PD*DEMORETAÏL*".encode("latin-1"), "GS02", id="non-ascii-gs02"
    ),
    pytest.param(b"*ACMESUPPLY*", b"*A*", "GS03", id="gs03-too-short"),
    pytest.param(b"*20261116*", b"*20261131*", "GS04", id="gs04-no-such-date"),
    pytest.param(b"*0600*", b"*06*", "GS05", id="gs05-too-short"),
    pytest.param(b"*X*004010", b"*Q*004010", "GS07", id="gs07-not-x-or-t"),
]


@pytest.mark.parametrize(("old", "new", "element"), BAD_GS)
def test_a_bad_gs_element_rejects_the_interchange_naming_it_and_is_answered(old, new, element):
    received = receive(gs(interchange([WEEK]), old, new))

    summary = interchange_process(interchange_id=received.pk, actor="test")

    done = Interchange.objects.get(pk=received.pk)
    assert summary.status == S.REJECTED
    assert f"element {element}" in done.status_reason
    assert ProductActivity.objects.count() == 0
    # the partner is answered: a 997 that rejects the group, in a version we can write
    assert "AK9*R*" in done.ack
    assert "GS*FA*ACMESUPPLY*DEMORETAIL*" in done.ack
    assert "*X*004010~" in done.ack
    assert OutboundDocument.objects.filter(acknowledges=done).count() == 1


def test_an_answer_that_cannot_be_written_rejects_the_interchange_with_the_reason():
    # a GS06 with a character no 004010 interchange can carry: AK102 must repeat it
    received = receive(gs(interchange([WEEK]), b"*0600*1*", "*0600*1É*".encode("latin-1")))

    interchange_process(interchange_id=received.pk, actor="test")

    done = Interchange.objects.get(pk=received.pk)
    assert done.status == S.REJECTED
    assert done.status_reason.startswith("our 997 cannot be written from what was sent: AK102")
    assert done.ack == ""
    assert not OutboundDocument.objects.filter(acknowledges=done).exists()
    assert ProductActivity.objects.count() == 0


def test_x12_ingest_reports_the_rejection_instead_of_a_traceback(tmp_path):
    path = tmp_path / "vics.edi"
    path.write_bytes(gs(interchange([WEEK]), b"*X*004010", b"*X*004010VICSEXTRA"))
    out = StringIO()

    call_command("x12_ingest", str(path), "--json", stdout=out)

    assert '"status": "rejected"' in out.getvalue()
    assert Interchange.objects.get().status == S.REJECTED


def test_a_valid_gs_is_still_accepted():
    received = receive(interchange([WEEK]))

    assert interchange_process(interchange_id=received.pk, actor="test").status == S.APPLIED


# -- finding 4: a crash after a set committed ------------------------------------------


class WorkerDied(BaseException):
    """Stands for SIGKILL: nothing after it runs, no except clause catches it."""


def test_a_crash_after_the_set_committed_still_gets_the_interchange_planned(
    planning_heard, monkeypatch
):
    received = receive(interchange([WEEK]))
    real = interchanges._set_status

    def dies_before_applied(interchange, to, actor, reason):
        if to == S.APPLIED:
            raise WorkerDied
        return real(interchange, to, actor, reason)

    monkeypatch.setattr(interchanges, "_set_status", dies_before_applied)
    with pytest.raises(WorkerDied):
        interchange_process(interchange_id=received.pk, actor="worker-1")
    assert Interchange.objects.get(pk=received.pk).status == S.ACCEPTED
    assert InboundSet.objects.filter(interchange=received, applied_at__isnull=False).count() == 1
    monkeypatch.undo()

    # the task comes back: the set is not applied again, and planning is queued after all
    summary = interchange_process(interchange_id=received.pk, actor="worker-2")

    assert (summary.status, summary.activity_rows) == (S.APPLIED, 8)
    assert ProductActivity.objects.count() == 8
    assert [len(h["item_location_pairs"]) for h in planning_heard] == [5]
    assert Interchange.objects.get(pk=received.pk).processed_at is not None


def test_a_crash_after_applied_before_planning_is_finished_by_the_next_run(
    planning_heard, monkeypatch
):
    received = receive(interchange([WEEK]))

    def dies(**kwargs):
        raise WorkerDied

    monkeypatch.setattr(interchanges, "positions_changed", dies)
    with pytest.raises(WorkerDied):
        interchange_process(interchange_id=received.pk, actor="worker-1")
    assert Interchange.objects.get(pk=received.pk).status == S.APPLIED
    monkeypatch.undo()

    interchange_process(interchange_id=received.pk, actor="worker-2")
    interchange_process(interchange_id=received.pk, actor="worker-3")  # finished: nothing

    assert [len(h["item_location_pairs"]) for h in planning_heard] == [5]
    assert ProductActivity.objects.count() == 8
    assert OutboundDocument.objects.filter(acknowledges=received).count() == 1


def _idle(interchange: Interchange, minutes: int) -> None:
    then = timezone.now() - timedelta(minutes=minutes)
    Interchange.objects.filter(pk=interchange.pk).update(received_at=then)
    interchange.status_changes.update(at=then)
    interchange.sets.filter(applied_at__isnull=False).update(applied_at=then)


def test_the_sweep_resumes_every_unfinished_state_after_a_few_minutes(planning_heard, monkeypatch):
    # given interchanges left by crashes: never queued, accepted with its set applied,
    # applied without its planning; and one of each that is still busy (fresh)
    never_queued = receive(interchange([WEEK], control=1))
    accepted = receive(interchange([WEEK], control=2))
    applied = receive(interchange([WEEK], control=3))
    busy = receive(interchange([WEEK], control=4))
    real = interchanges._set_status

    def dies_before_applied(interchange, to, actor, reason):
        if to == S.APPLIED:
            raise WorkerDied
        return real(interchange, to, actor, reason)

    monkeypatch.setattr(interchanges, "_set_status", dies_before_applied)
    for crashed in (accepted, busy):
        with pytest.raises(WorkerDied):
            interchange_process(interchange_id=crashed.pk, actor="worker-1")
    monkeypatch.undo()
    monkeypatch.setattr(
        interchanges, "positions_changed", lambda **kw: (_ for _ in ()).throw(WorkerDied)
    )
    with pytest.raises(WorkerDied):
        interchange_process(interchange_id=applied.pk, actor="worker-1")
    monkeypatch.undo()
    for stuck in (never_queued, accepted, applied):
        _idle(stuck, minutes=6)

    queued = requeue_waiting_interchanges(older_than_minutes=5)

    assert queued == 3
    for done in (never_queued, accepted, applied):
        done.refresh_from_db()
        assert (done.status, done.processed_at is not None) == (S.APPLIED, True)
    assert Interchange.objects.get(pk=busy.pk).status == S.ACCEPTED  # not idle long enough
    assert sorted(h["source"] for h in planning_heard) == sorted(
        f"interchange:{i.pk}" for i in (never_queued, accepted, applied)
    )
    assert requeue_waiting_interchanges(older_than_minutes=5) == 0


def test_a_nul_byte_in_a_value_is_recorded_and_the_interchange_answered():
    # PostgreSQL refuses NUL in text and JSON: the interchange must still end with a reason
    received = receive(interchange([WEEK]).replace(b"N1*BY*Demo Retail", b"N1*BY*Demo\x00Retail"))

    summary = interchange_process(interchange_id=received.pk, actor="test")

    done = Interchange.objects.get(pk=received.pk)
    assert summary.status in (S.APPLIED, S.REJECTED)
    assert done.status_reason
    assert "\\x00" in str(done.validation) + str(done.errors)
    assert OutboundDocument.objects.filter(acknowledges=done).count() == 1
