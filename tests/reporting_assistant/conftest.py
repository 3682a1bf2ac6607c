"""The finance world with the agreements' clauses indexed, and asking as of one date."""

from datetime import date

import pytest

from reporting_assistant.answering import assistant_ask
from tests.finance_world import build_finance_world, index_agreement_texts
from tests.orders import person

AS_OF = date(2026, 11, 25)


@pytest.fixture
def world(settings, tmp_path):
    found = build_finance_world(settings, tmp_path)
    index_agreement_texts()
    found["auditor"] = person("aud", "auditor")
    return found


def ask(user, question, **kw):
    return assistant_ask(user=user, question=question, as_of=AS_OF, **kw)
