"""Remittances applied to settlements, worked by hand: a partial payment with a deduction,
matching by number then by amount and date, an unmatched payment, the same trace number
twice, evaluated receipt settlement compared with ours, a EUR invoice paid at another rate
(realised FX), and the finance figures (owed, aged, overdue, cash, DSO) at a date."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from smi_core.models import ExceptionItem, PaymentApplication, Remittance, SupplyAgreement
from smi_core.selectors.finance import Filters, FinanceScope
from smi_core.selectors.finance.settlement import bucket_for, settlement_figures
from smi_core.services.audit import Actor
from smi_core.services.fx import fx_load
from smi_core.services.settlement import settlement_approve, settlement_issue, settlement_prepare
from smi_core.services.settlement_payments import (
    Adjustment,
    RemittanceIn,
    RemittanceLineIn,
    RemittanceRefused,
    remittance_apply,
)
from tests.smi_core.test_settlement import TODAY, person, world  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db
D = Decimal
BUYER = Actor.partner("north")


def issued(world, **agreement_fields):  # noqa: F811
    agreement = world["agreement"]
    for name, value in agreement_fields.items():
        setattr(agreement, name, value)
    agreement.save()
    invoice, _ = settlement_prepare(
        agreement_id=agreement.pk, day=date(2027, 2, 15), user=world["preparer"], today=TODAY
    )
    settlement_approve(invoice_id=invoice.pk, user=world["approver"])
    # Issued 2027-03-10, due 30 days later on 2027-04-09; total 428.25.
    return settlement_issue(invoice_id=invoice.pk, user=world["approver"], today=TODAY)


def advice(world, trace, amount, *lines, currency="USD", day=date(2027, 4, 5), adjustments=()):  # noqa: F811
    return RemittanceIn(
        payer=world["buyer"].party,
        payee=world["supplier"].party,
        trace_number=trace,
        payment_date=day,
        amount=D(amount),
        currency=currency,
        method="ACH",
        lines=tuple(lines),
        adjustments=tuple(adjustments),
    )


def test_a_partial_payment_with_a_deduction(world):  # noqa: F811
    invoice = issued(world)
    line = RemittanceLineIn(
        reference=invoice.number,
        paid=D("300.00"),
        invoice_amount=D("428.25"),
        adjustments=(Adjustment(D("-28.25"), "20"),),
    )

    remittance, created = remittance_apply(advice=advice(world, "T1", "300.00", line), actor=BUYER)

    assert created
    invoice.refresh_from_db()
    # 428.25 - 300.00 = 128.25 still owed: partially paid.
    assert (invoice.paid, invoice.balance, invoice.status) == (
        D("300.00"),
        D("128.25"),
        "partially_paid",
    )
    application = PaymentApplication.objects.get(remittance=remittance)
    assert (application.invoice, application.matched_by) == (invoice, "number")
    deduction = ExceptionItem.objects.get(kind="payment_deduction")
    assert deduction.details["deducted"] == "28.25"
    assert deduction.details["adjustments"] == [{"amount": "-28.25", "reason": "20"}]
    # Short by 128.25, of which the 28.25 deduction explains part: 100.00 unexplained.
    short = ExceptionItem.objects.get(kind="payment_short")
    assert (short.details["short"], short.details["unexplained"]) == ("128.25", "100.00")
    assert "short by 128.25, of which 28.25 deducted" in short.message


def test_the_same_trace_number_twice_pays_once(world):  # noqa: F811
    invoice = issued(world)
    line = RemittanceLineIn(reference=invoice.number, paid=D("428.25"))
    first, _ = remittance_apply(advice=advice(world, "T1", "428.25", line), actor=BUYER)

    again, created = remittance_apply(advice=advice(world, "T1", "428.25", line), actor=BUYER)

    assert (again.pk, created) == (first.pk, False)
    invoice.refresh_from_db()
    assert (invoice.paid, invoice.status) == (D("428.25"), "paid")
    assert Remittance.objects.count() == 1
    assert not ExceptionItem.objects.filter(kind__startswith="payment_").exists()


def test_without_our_number_the_amount_and_date_match(world):  # noqa: F811
    invoice = issued(world)
    line = RemittanceLineIn(reference="THEIR-77", paid=D("428.25"))

    remittance, _ = remittance_apply(advice=advice(world, "T2", "428.25", line), actor=BUYER)

    application = remittance.lines.get()
    assert (application.invoice_id, application.matched_by) == (invoice.pk, "amount_date")


def test_a_payment_matching_nothing_is_an_exception(world):  # noqa: F811
    issued(world)
    line = RemittanceLineIn(reference="THEIR-78", paid=D("999.00"))

    remittance, _ = remittance_apply(advice=advice(world, "T3", "1000.00", line), actor=BUYER)

    assert remittance.lines.get().matched_by == "unmatched"
    subjects = sorted(
        ExceptionItem.objects.filter(kind="payment_unmatched").values_list("subject", flat=True)
    )
    # The line, and the 1.00 of the total the lines do not account for.
    assert subjects == ["THEIR-78 in remittance T3", "remittance T3"]


def test_an_overpayment_is_an_exception(world):  # noqa: F811
    invoice = issued(world)
    line = RemittanceLineIn(reference=invoice.number, paid=D("430.00"))

    remittance_apply(advice=advice(world, "T4", "430.00", line), actor=BUYER)

    assert ExceptionItem.objects.get(kind="payment_over").details["over"] == "1.75"
    invoice.refresh_from_db()
    assert invoice.status == "paid"


def test_ers_compares_the_buyers_figure_with_ours(world):  # noqa: F811
    invoice = issued(world, settlement_method=SupplyAgreement.SettlementMethod.ERS)
    # The buyer's own count leaves out the 2 Y sold in the week to 02-28 (2 x 12.50): its
    # total is 428.25 - 25.00 = 403.25.
    line = RemittanceLineIn(reference=invoice.number, paid=D("403.25"), invoice_amount=D("403.25"))

    remittance_apply(advice=advice(world, "E1", "403.25", line), actor=BUYER)

    difference = ExceptionItem.objects.get(kind="ers_difference")
    assert (difference.details["ours"], difference.details["theirs"]) == ("428.25", "403.25")
    assert difference.details["difference"] == "-25.00"
    # Under ERS the buyer's figure is the comparison, not a short payment.
    assert not ExceptionItem.objects.filter(kind="payment_short").exists()


def test_ers_under_the_buyers_own_number_settles_its_cycle(world):  # noqa: F811
    invoice = issued(world, settlement_method=SupplyAgreement.SettlementMethod.ERS)
    # The buyer's self-bill SB-0228 of 2027-03-03 for February: 403.25 by its own count.
    line = RemittanceLineIn(
        reference="SB-0228",
        paid=D("403.25"),
        invoice_amount=D("403.25"),
        invoice_date=date(2027, 3, 3),
    )

    remittance, _ = remittance_apply(advice=advice(world, "E2", "403.25", line), actor=BUYER)

    application = remittance.lines.get()
    assert (application.invoice_id, application.matched_by) == (invoice.pk, "cycle")
    difference = ExceptionItem.objects.get(kind="ers_difference")
    assert difference.details["difference"] == "-25.00"
    assert not ExceptionItem.objects.filter(kind="payment_unmatched").exists()


def test_a_eur_invoice_paid_at_another_rate_realises_fx(world, settings):  # noqa: F811
    fx_load(
        text="currency,quote,date,rate\nEUR,USD,2027-03-10,1.10\nEUR,USD,2027-04-05,1.15\n",
        actor=Actor.system("test"),
    )
    invoice = issued(world, currency="EUR")
    assert (invoice.currency, invoice.total) == ("EUR", D("428.25"))
    line = RemittanceLineIn(reference=invoice.number, paid=D("428.25"))
    remittance_apply(advice=advice(world, "F1", "428.25", line, currency="EUR"), actor=BUYER)

    figures = settlement_figures(
        scope=FinanceScope.everything(), filters=Filters(), as_of=date(2027, 4, 30)
    )

    # EUR 428.25 at 1.10 on the invoice date = USD 471.075 -> 471.08; at 1.15 on the
    # payment date = USD 492.4875 -> 492.49; the supplier gains USD 21.41.
    realised = figures["realised_fx"]
    assert realised["total"] == "21.41"
    (payment,) = realised["payments"]
    assert (payment["at_invoice_rate"], payment["at_payment_rate"]) == ("471.08", "492.49")
    assert (payment["invoice_rate"]["rate"], payment["payment_rate"]["rate"]) == (
        "1.10000000",
        "1.15000000",
    )


def test_a_eur_invoice_paid_when_the_euro_fell_is_a_loss(world, settings):  # noqa: F811
    # the sign, held: at the payment date's rate minus at the invoice date's
    fx_load(
        text="currency,quote,date,rate\nEUR,USD,2027-03-10,1.10\nEUR,USD,2027-04-05,1.05\n",
        actor=Actor.system("test"),
    )
    invoice = issued(world, currency="EUR")
    line = RemittanceLineIn(reference=invoice.number, paid=D("428.25"))
    remittance_apply(advice=advice(world, "F3", "428.25", line, currency="EUR"), actor=BUYER)

    figures = settlement_figures(
        scope=FinanceScope.everything(), filters=Filters(), as_of=date(2027, 4, 30)
    )

    # EUR 428.25 at 1.05 = USD 449.6625 -> 449.66; 449.66 - 471.08 = -21.42, a loss
    (payment,) = figures["realised_fx"]["payments"]
    assert (payment["at_invoice_rate"], payment["at_payment_rate"]) == ("471.08", "449.66")
    assert figures["realised_fx"]["total"] == payment["gain_loss"] == "-21.42"


def test_finance_report_prints_cash_dso_and_realised_fx_for_a_person(world):  # noqa: F811
    import io

    from django.core.management import call_command

    fx_load(
        text="currency,quote,date,rate\nEUR,USD,2027-03-10,1.10\nEUR,USD,2027-04-05,1.15\n",
        actor=Actor.system("test"),
    )
    invoice = issued(world, currency="EUR")
    line = RemittanceLineIn(reference=invoice.number, paid=D("300.00"))
    remittance_apply(advice=advice(world, "F2", "300.00", line, currency="EUR"), actor=BUYER)
    out = io.StringIO()

    call_command("finance_report", "--as-of", "2027-04-30", "--figure", "settlement", stdout=out)

    text = " ".join(out.getvalue().split())
    # the DSO as worked: 128.25 owed / 428.25 invoiced x 90 = 26.9527, shown to a tenth
    assert "DSO 27.0 days" in text
    assert "DSO EUR: owed EUR 128.25 / invoiced in the 90 days EUR 428.25 x 90 = 27.0 days" in text
    # cash in the window against what fell due and the forecast
    assert "Cash 2027-04-01 to 2027-04-30 (forecast made 2027-04-01)" in text
    assert "EUR EUR 428.25 EUR 300.00 EUR -128.25" in text
    # EUR 300.00 at 1.10 = USD 330.00, at 1.15 = USD 345.00: a USD 15.00 gain
    assert "Realised FX at the payment date's rate against the invoice date's: USD 15.00" in text
    assert f"{invoice.number} EUR 300.00 2027-03-10 1.1 2027-04-05 1.15 USD 15.00" in text
    assert "None" not in out.getvalue() and "{" not in out.getvalue()


def test_finance_figures_at_a_date(world):  # noqa: F811
    invoice = issued(world)
    line = RemittanceLineIn(reference=invoice.number, paid=D("300.00"))
    remittance_apply(advice=advice(world, "T1", "300.00", line), actor=BUYER)
    everything, none = FinanceScope.everything(), Filters()

    at = settlement_figures(scope=everything, filters=none, as_of=date(2027, 4, 30))

    (row,) = at["rows"]
    assert (row["buyer"], row["currency"], row["invoiced"], row["paid"], row["owed"]) == (
        "north",
        "USD",
        "428.25",
        "300.00",
        "128.25",
    )
    # Due 04-09: 21 days overdue on 04-30.
    assert (row["overdue"], row["aged_1_30"], row["aged_current"]) == ("128.25", "128.25", "0.00")
    # Over 04-01..04-30: 428.25 fell due, 300.00 came in.
    assert at["cash"]["by_currency"]["USD"] == {
        "due": "428.25",
        "received": "300.00",
        "difference": "-128.25",
        "forecast": "212.50",
        "received_vs_forecast": "87.50",
    }
    # The cash forecast made on 04-01 expected 212.50 in the window: the 50 X sold at S1 in
    # the week to 03-07 (50 x 4.25), paid 30 days after the week, 04-06. (February's weeks
    # fell due by 03-30, before the forecast was made; it pays per week, not per invoice.)
    assert at["cash"]["forecast_made"] == "2027-04-01"
    # DSO: 128.25 owed / 428.25 invoiced in the 90 days x 90 = 26.9527 days.
    assert at["dso"]["by_currency"]["USD"]["dso_days"] == "26.9527"
    # Before the payment date nothing is paid yet; before the invoice date nothing is owed.
    before_payment = settlement_figures(scope=everything, filters=none, as_of=date(2027, 4, 4))
    assert before_payment["rows"][0]["paid"] == "0.00"
    assert before_payment["rows"][0]["aged_current"] == "428.25"
    assert settlement_figures(scope=everything, filters=none, as_of=date(2027, 3, 9))["rows"] == []
    # 41 days late on 05-20: the 31-60 bucket.
    later = settlement_figures(scope=everything, filters=none, as_of=date(2027, 5, 20))
    assert later["rows"][0]["aged_31_60"] == "128.25"


def test_a_finance_user_sees_only_granted_parties(world):  # noqa: F811
    issued(world)
    scope = FinanceScope(frozenset({-1}))
    figures = settlement_figures(scope=scope, filters=Filters(), as_of=date(2027, 4, 30))
    assert figures["rows"] == []


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (0, "current"),
        (-5, "current"),
        (1, "1-30"),
        (30, "1-30"),
        (31, "31-60"),
        (90, "61-90"),
        (91, "over 90"),
    ],
)
def test_age_buckets(days, bucket):
    assert bucket_for(days) == bucket


def test_a_remittance_without_trace_is_refused(world):  # noqa: F811
    with pytest.raises(RemittanceRefused, match="trace number"):
        remittance_apply(advice=advice(world, " ", "1.00"), actor=BUYER)


def test_the_figure_reaches_the_api_the_report_and_the_dashboard(world, client):  # noqa: F811
    import io

    from django.core.management import call_command
    from rest_framework.test import APIClient

    invoice = issued(world)
    line = RemittanceLineIn(reference=invoice.number, paid=D("300.00"))
    remittance_apply(advice=advice(world, "T1", "300.00", line), actor=BUYER)
    auditor = person("aud", "auditor")
    api = APIClient()
    api.force_authenticate(auditor)

    data = api.get("/api/v1/finance/settlement/?as_of=2027-04-30").json()
    csv_text = api.get("/api/v1/finance/settlement/?as_of=2027-04-30&export=csv").content.decode()
    out = io.StringIO()
    call_command("finance_report", "--as-of", "2027-04-30", "--figure", "settlement", stdout=out)
    client.force_login(auditor)
    page = client.get("/finance/?as_of=2027-04-30").content.decode()

    assert data["rows"][0]["owed"] == "128.25"
    assert "128.25" in csv_text.splitlines()[1] and "dso_days" in csv_text.splitlines()[0]
    assert "Settlement" in out.getvalue() and "128.25" in out.getvalue()
    assert 'id="settlement"' in page and "USD 128.25" in page and "1-30 days late" in page
