"""The assistant's default day: a question that names none is answered as of the site's
reporting date, and the answer says so; "today", a date named, or the day it is asked on
given by the caller win. Demo Retail holds 80 SOAP at USD 2.00 in the week to 2026-11-08
and 100 in the week to 2026-11-22 (its last report)."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from reporting_assistant.answering import assistant_ask
from smi_core.services.audit import Actor
from smi_core.services.reporting_date import reporting_date_set
from tests.reporting_assistant.conftest import AS_OF

pytestmark = pytest.mark.django_db

QUESTION = "What is our inventory exposure to Demo Retail?"


@pytest.fixture
def pinned(world):
    reporting_date_set(day=date(2026, 11, 8), actor=Actor.user(world["auditor"]))
    return world


def _closing(answer) -> str:
    return next(f.value for f in answer.facts if f.key.endswith("total.closing"))


def test_a_question_naming_no_day_is_answered_as_of_the_reporting_date(pinned):
    answer = assistant_ask(user=pinned["auditor"], question=QUESTION)

    today = timezone.localdate()
    assert _closing(answer) == "160.00"  # 80 SOAP x USD 2.00 in the week to 2026-11-08
    assert answer.reporting_date["as_of"] == "2026-11-08"
    assert answer.text.endswith(
        f"Figures as of 2026-11-08, the reporting date set by aud on {today}; today is "
        f"{today}; ask \u201cas of today\u201d for today's."
    )
    assert answer.today_question == f"{QUESTION} as of today"
    assert answer.as_dict()["reporting_date"]["basis"] == "reporting_date"


def test_the_same_question_as_of_today_is_answered_as_of_today(pinned):
    answer = assistant_ask(user=pinned["auditor"], question=f"{QUESTION} as of today")

    assert _closing(answer) == "200.00"  # 100 SOAP carried forward from 2026-11-22
    assert answer.reporting_date is None
    assert "the reporting date" not in answer.text


def test_a_day_named_in_the_question_wins(pinned):
    answer = assistant_ask(
        user=pinned["auditor"],
        question="What was our inventory exposure to Demo Retail on 22 November 2026?",
    )

    assert _closing(answer) == "200.00"
    assert answer.reporting_date is None


def test_the_day_given_by_the_caller_wins(pinned):
    answer = assistant_ask(user=pinned["auditor"], question=QUESTION, as_of=AS_OF)

    assert _closing(answer) == "200.00"  # as of 2026-11-25
    assert answer.reporting_date is None


def test_with_no_reporting_date_a_question_is_answered_as_of_today(world):
    answer = assistant_ask(user=world["auditor"], question=QUESTION)

    assert _closing(answer) == "200.00"
    assert answer.reporting_date is None


def test_the_chat_page_offers_the_question_as_of_today(client, pinned):
    client.force_login(pinned["auditor"])

    page = client.post("/assistant/", {"question": QUESTION}).content.decode()

    assert 'id="ask-today"' in page
    assert f'name="question" value="{QUESTION} as of today"' in page
