"""What a question asks, worked out by rules: figures, clause topics, parties, currency,
weeks, and the names that match no partner."""

from __future__ import annotations

import pytest

from reporting_assistant.intent import KnownParty, intent_for

PARTIES = [
    KnownParty("acme-supply", "Acme Supply", "supplier"),
    KnownParty("demo-retail", "Demo Retail", "buyer"),
    KnownParty("city-mart", "City Mart", "buyer"),
    KnownParty("acme-stores-eu", "Acme Stores Europe", "buyer"),
]


@pytest.mark.parametrize(
    ("question", "figures", "topics", "clauses"),
    [
        ("What is our inventory exposure to ACME in EUR?", ("valuation",), (), False),
        ("Which agreements make us liable for obsolete stock?", (), ("obsolescence",), True),
        (
            "How much cash goes out for replenishment in the next four weeks?",
            ("cashflow",),
            (),
            False,
        ),
        (
            "What does the City Mart agreement say about payment terms, and how much do we owe them now?",
            ("owed",),
            ("payment_terms",),
            True,
        ),
        ("What is our DIO and turnover?", ("turnover",), (), False),
        ("How long does stock last if Acme stops delivering?", ("continuity",), (), False),
        ("Tell me a joke", (), (), False),
    ],
    ids=["exposure", "obsolete", "cash", "terms-and-owed", "dio", "continuity", "off-topic"],
)
def test_what_is_asked(question, figures, topics, clauses):
    intent = intent_for(question, PARTIES)

    assert intent.figures == figures
    assert intent.topics == topics
    assert intent.wants_clauses is clauses


def test_parties_currency_and_weeks():
    exposure = intent_for("What is our inventory exposure to ACME in EUR?", PARTIES)
    cash = intent_for("How much cash goes out in the next 6 weeks for City Mart?", PARTIES)

    assert exposure.suppliers == ("acme-supply",) and exposure.currency == "EUR"
    assert exposure.buyers == ("acme-stores-eu",)  # "ACME" names both; the filters say so
    assert (cash.buyers, cash.weeks, cash.kind) == (("city-mart",), 6, "figure")


def test_a_partner_we_do_not_know_is_named_as_unknown():
    intent = intent_for(
        "What does the Globex agreement say about payment terms, and how much do we owe them now?",
        PARTIES,
    )

    assert intent.unknown_names == ("Globex",)
    assert not intent.suppliers and not intent.buyers
