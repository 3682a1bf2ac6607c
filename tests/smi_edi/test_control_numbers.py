from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from smi_edi.models import ControlNumberSequence
from smi_edi.services.control_numbers import (
    MAX_CONTROL_NUMBER,
    ControlNumbersExhausted,
    DatabaseControlNumbers,
    control_number_next,
)

pytestmark = pytest.mark.django_db


def test_numbers_count_up_per_partner_and_kind():
    numbers = DatabaseControlNumbers("ZZ:ACME")

    assert [numbers.next_interchange() for _ in range(3)] == [1, 2, 3]
    assert numbers.next_group() == 1
    assert DatabaseControlNumbers("ZZ:GLOBEX").next_interchange() == 1
    assert numbers.next_interchange() == 4


def test_a_block_of_numbers_is_reserved_at_once():
    first = control_number_next(partner_key="ZZ:ACME", kind="st", count=10)

    assert first == 1
    assert control_number_next(partner_key="ZZ:ACME", kind="st") == 11


def test_exhausted_sequence_refuses_instead_of_wrapping():
    ControlNumberSequence.objects.create(
        partner_key="ZZ:ACME", kind="isa", last_value=MAX_CONTROL_NUMBER
    )

    with pytest.raises(ControlNumbersExhausted, match="used up"):
        control_number_next(partner_key="ZZ:ACME", kind="isa")
    assert (
        ControlNumberSequence.objects.get(partner_key="ZZ:ACME", kind="isa").last_value
        == MAX_CONTROL_NUMBER
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_get_the_same_number(require_postgres):
    # given eight writers asking at once on PostgreSQL, each on its own connection
    def take(_: int) -> list[int]:
        try:
            return [control_number_next(partner_key="ZZ:RACE", kind="isa") for _ in range(25)]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        batches = list(pool.map(take, range(8)))

    numbers = [n for batch in batches for n in batch]
    assert len(numbers) == 200
    assert sorted(numbers) == list(range(1, 201))
