"""Raising exceptions in bulk: an open one with the same kind, partner and subject counts
up, the rest are created, whether the open queue is small (read at once) or has grown far
beyond the specs (looked up by subject)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from smi_core.models import ExceptionItem
from smi_core.services.exceptions import ExceptionSpec, exceptions_raise_many

pytestmark = pytest.mark.django_db
JUMP = ExceptionItem.Kind.SUDDEN_JUMP


def spec(subject: str, occurrences: int = 1) -> ExceptionSpec:
    return ExceptionSpec(
        kind=JUMP,
        partner_id=None,
        subject=subject,
        message=f"jump at {subject}",
        action="check the count",
        occurrences=occurrences,
    )


def open_ones(count: int) -> None:
    exceptions_raise_many([spec(f"old-{n:04d}") for n in range(count)])


@pytest.mark.parametrize("queue", [2, 200], ids=["small queue", "large queue"])
def test_open_ones_count_up_and_new_ones_are_created(queue):
    open_ones(queue)

    exceptions_raise_many([spec("old-0000", 2), spec("old-0001"), spec("new-1")])

    by_subject = dict(ExceptionItem.objects.values_list("subject", "occurrences"))
    assert by_subject["old-0000"] == 3 and by_subject["old-0001"] == 2
    assert by_subject["new-1"] == 1
    assert len(by_subject) == queue + 1
    assert ExceptionItem.objects.get(subject="old-0000").message == "jump at old-0000"


def test_a_large_queue_is_not_read_whole_for_a_few_specs():
    open_ones(200)

    with CaptureQueriesContext(connection) as queries:
        exceptions_raise_many([spec("old-0007"), spec("new-2")])

    reads = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert any('"subject" IN' in sql for sql in reads), reads
    assert ExceptionItem.objects.get(subject="old-0007").occurrences == 2
