"""Imports read only files inside the import root, check every value against the model,
and report every bad row as file:line: field: problem with nothing applied (issue 13)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from smi_core.models import AgreementTerm, ExchangeRate, Item, SupplyAgreement
from smi_core.services.items import items_import
from smi_edi.services.partners import partner_add
from tests.factories import LocationFactory

pytestmark = pytest.mark.django_db
SAMPLES = Path(__file__).resolve().parents[2] / "samples"
ITEMS_HEADER = "supplier,vendor_item,gtin,description,unit,pack_size,buyer,buyer_item\n"


@pytest.fixture
def work(tmp_path):
    partner_add(
        code="acme-supply", name="Acme", isa="ZZ:ACMESUPPLY", role="supplier", with_token=False
    )
    for code, isa in (
        ("demo-retail", "DEMORETAIL"),
        ("city-mart", "CITYMART"),
        ("acme-stores-eu", "ACMESTORESEU"),
    ):
        party = partner_add(code=code, name=code, isa=f"ZZ:{isa}", with_token=False)[0].party
        if code == "demo-retail":
            LocationFactory(party=party, code="S001")
    items_import(text=(SAMPLES / "items.csv").read_text())
    work = tmp_path / "import"
    shutil.copytree(SAMPLES, work, ignore=shutil.ignore_patterns("852", "850", "*.py"))
    return work


def one_agreement(work: Path, **changes) -> Path:
    """agreements.json holding only the city-mart agreement, with ``changes``."""
    data = json.loads((work / "agreements.json").read_text())
    agreement = data["agreements"][1]
    agreement.update(changes)
    path = work / "one.json"
    path.write_text(json.dumps({"agreements": [agreement]}, indent=2))
    return path


def import_error(path: Path) -> str:
    with pytest.raises(CommandError) as excinfo:
        call_command("agreements_import", str(path))
    assert not SupplyAgreement.objects.exists()
    return str(excinfo.value)


# -- finding 6: files named inside an import ------------------------------------------------


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "secret.env"
    path.write_text("SECRET_KEY=do-not-index-me\n")
    return path


@pytest.mark.parametrize(
    ("field", "name", "problem"),
    [
        ("text_file", "ABSOLUTE", "is an absolute path"),
        ("text_file", "../secret.env", "outside"),
        ("text_file", "../../../../../../../../etc/hostname", "outside"),
        ("text_file", "agreements/../../secret.env", "outside"),
        ("text_file", "agreements/link.md", "outside"),
        ("terms_csv", "ABSOLUTE", "is an absolute path"),
        ("terms_csv", "../secret.env", "outside"),
    ],
    ids=[
        "text-absolute",
        "text-parent",
        "text-etc-hostname",
        "text-dotdot-inside-a-folder",
        "text-symlink-out",
        "terms-absolute",
        "terms-parent",
    ],
)
def test_a_file_outside_the_imported_files_folder_is_refused(work, secret, field, name, problem):
    (work / "agreements" / "link.md").symlink_to(secret)
    if name == "ABSOLUTE":
        name = str(secret)
    path = one_agreement(work, **{field: name})

    message = import_error(path)

    assert f"one.json:3: agreements[0].{field}: {name!r}" in message
    assert problem in message
    assert "do-not-index-me" not in message


def test_a_file_under_the_configured_import_root_may_be_named(work, settings):
    shared = work.parent / "shared-texts"
    shared.mkdir()
    (shared / "city.md").write_text("# City Mart\n\n## 1. Terms\nNet 45.\n")
    path = one_agreement(work, text_file="../shared-texts/city.md")
    assert "outside" in import_error(path)

    settings.SMI_IMPORT_ROOT = str(work.parent)
    call_command("agreements_import", str(path))

    assert SupplyAgreement.objects.get(code="acme-city-mart").text.startswith("# City Mart")


# -- finding 8: tracebacks become errors naming the line ------------------------------------


def test_a_non_utf8_json_file_names_its_line_and_byte(work):
    path = work / "latin1.json"
    text = json.dumps({"agreements": [{"code": "caf\u00e9"}]}, ensure_ascii=False, indent=1)
    path.write_bytes(text.encode("latin-1"))

    message = import_error(path)

    assert (
        "latin1.json:4: byte 39 (0xE9, column 16)" in message
        and "(0xE9" in message
        and "not UTF-8" in message
    )


def test_a_non_utf8_terms_csv_names_its_line(work):
    csv = work / "terms-city-mart.csv"
    csv.write_bytes(
        csv.read_bytes() + "acme-city-mart,ACME-1001,,1,2,,,,,\xa31.00,\n".encode("cp1252")
    )

    message = import_error(one_agreement(work))

    assert "terms-city-mart.csv:" in message and "(0xA3" in message


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"capacities": [{"item_group": ["a"], "units_per_week": "1"}]},
            "capacities[0].item_group: ['a'] is not text",
        ),
        ({"capacities": "x"}, "agreements[0].capacities: 'x' is not a list"),
        ({"capacities": ["x"]}, "agreements[0].capacities[0]: 'x' is not an object"),
        ({"terms": "x"}, "agreements[0].terms: 'x' is not a list"),
        (
            {"capacities": [{"item_group": "paper", "units_per_week": "1e400"}]},
            "agreements[0].capacities[0].units_per_week: 1e400 is too large",
        ),
        (
            {"terms": [{"item": "ACME-1001", "unit_cost": "1e17"}]},
            "agreements[0].terms[0].unit_cost: 1e17 is too large (at most 99999999999999.9999)",
        ),
        (
            {"terms": [{"item": "ACME-1001", "unit_cost": 1e400}]},
            "agreements[0].terms[0].unit_cost: 'inf' is not a finite number",
        ),
        ({"lead_time_days": "123456789"}, "agreements[0].lead_time_days: 123456789 is too large"),
        ({"service_level": "0.951234"}, "service_level: 0.951234 has more than 4 decimal places"),
        ({"payment_terms_days": 1e12}, "payment_terms_days: 1000000000000.0 is too large"),
        ({"code": "c" * 41}, "agreements[0].code: 41 characters; at most 40"),
        (
            {"capacities": [{"item_group": "g" * 41, "units_per_week": "1"}]},
            "capacities[0].item_group: 41 characters; at most 40",
        ),
    ],
    ids=[
        "capacity-group-a-list",
        "capacities-a-string",
        "capacity-a-string",
        "terms-a-string",
        "capacity-1e400",
        "unit-cost-1e17",
        "unit-cost-json-infinity",
        "lead-time-too-many-digits",
        "service-level-too-many-places",
        "payment-days-too-large",
        "code-too-long",
        "item-group-too-long",
    ],
)
def test_out_of_range_agreement_values_are_errors_not_tracebacks(work, changes, expected):
    message = import_error(one_agreement(work, **changes))

    assert expected in message
    assert "one.json:" in message


# -- finding 9: accepted although wrong ------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"currency": "XXQ"}, "currency: 'XXQ' is not an ISO 4217 currency code"),
        (
            {"effective_from": "2026-12-31", "effective_to": "2026-01-01"},
            "effective_to: 2026-01-01 is before effective_from 2026-12-31",
        ),
    ],
    ids=["currency-xxq", "effective-from-after-to"],
)
def test_wrong_agreement_values_are_refused(work, changes, expected):
    message = import_error(one_agreement(work, **changes))

    assert f"one.json:3: agreements[0].{expected}" in message


def test_a_key_given_twice_in_one_agreement_is_an_error_not_the_last_one_wins(work):
    text = (
        one_agreement(work)
        .read_text()
        .replace('"currency": "USD",', '"currency": "USD",\n      "currency": "EUR",')
    )
    (work / "one.json").write_text(text)

    message = import_error(work / "one.json")

    assert "one.json:3: agreements[0].currency: appears more than once" in message


def test_a_repeated_agreement_code_names_both_lines(work):
    data = json.loads((work / "agreements.json").read_text())
    data["agreements"] = [data["agreements"][1], dict(data["agreements"][1])]
    path = work / "twice.json"
    path.write_text(json.dumps(data, indent=2))

    message = import_error(path)

    second = next(
        n + 1
        for n, line in enumerate(path.read_text().splitlines())
        if line.strip() == "{" and n > 3
    )
    assert f"twice.json:{second}: agreements[1].code: 'acme-city-mart' is also on line 3" in message


def test_a_term_csv_repeating_an_item_names_both_lines_and_every_bad_row(work):
    csv = work / "terms-city-mart.csv"
    lines = csv.read_text().splitlines()
    lines.append(lines[1])  # the first term again
    lines.append("acme-city-mart,ACME-1002")  # cut short
    lines.append(lines[2].replace("ACME-1002", "NOPE"))
    csv.write_text("\n".join(lines) + "\n")
    n = len(lines)

    message = import_error(one_agreement(work))

    assert f"terms-city-mart.csv:{n - 2}: item: ACME-1001 (every location) is also on line 2" in (
        message
    )
    assert f"terms-city-mart.csv:{n - 1}: row: has 2 of 11 values; it was cut short" in message
    assert f"terms-city-mart.csv:{n}: item: 'NOPE' is not an item of the supplier" in message
    assert message.startswith("3 problem(s); nothing was imported")


# -- items -----------------------------------------------------------------------------------


def items_error(tmp_path, body: str) -> str:
    path = tmp_path / "items-new.csv"
    path.write_text(ITEMS_HEADER + body)
    before = Item.objects.count()
    with pytest.raises(CommandError) as excinfo:
        call_command("items_import", str(path))
    assert Item.objects.count() == before
    return str(excinfo.value)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "acme-supply,NEW-1,,Thing,EA\n",
            "items-new.csv:2: row: has 5 of 8 values; it was cut short",
        ),
        (
            "acme-supply,NEW-1,,Thing,EA,6,,\nacme-supply,NEW-1,,Thing,EA,12,,\n",
            "items-new.csv:3: vendor_item: acme-supply NEW-1 is also on line 2",
        ),
        (
            "acme-supply,NEW-1,,Thing,EA,6,demo-retail,X1\nacme-supply,NEW-2,,Other,EA,6,demo-retail,X1\n",
            "items-new.csv:3: buyer_item: demo-retail X1 is also on line 2",
        ),
        (
            f"acme-supply,NEW-1,,{'d' * 5000},EA,6,,\n",
            "items-new.csv:2: description: 5,000 characters; at most 200",
        ),
        (
            "acme-supply,NEW-1,,Thing,EA,1e400,,\n",
            "items-new.csv:2: pack_size: 1e400 is too large (at most 999999999.999)",
        ),
        (
            "acme-supply,NEW-1,012345678906,Thing,EA,6,,\n",
            "items-new.csv:2: gtin: '012345678906' has check digit 6, but the digits before it "
            "give 5 (012345678905)",
        ),
        (
            f"acme-supply,{'V' * 49},,Thing,EA,6,,\n",
            "items-new.csv:2: vendor_item: 49 characters; at most 48",
        ),
        ("acme-supply,NEW-1,,Thing,EA,0,,\n", "items-new.csv:2: pack_size: 0 must be above 0"),
    ],
    ids=[
        "truncated-row",
        "vendor-item-twice",
        "buyer-item-twice",
        "description-5000",
        "pack-size-1e400",
        "upc-wrong-check-digit",
        "vendor-item-too-long",
        "pack-size-zero",
    ],
)
def test_bad_item_rows_are_named_and_nothing_is_applied(work, tmp_path, body, expected):
    assert expected in items_error(tmp_path, body)


def test_a_non_utf8_items_file_is_one_clear_error(work, tmp_path):
    path = tmp_path / "items-latin1.csv"
    path.write_bytes((ITEMS_HEADER + "acme-supply,NEW-1,,Caf\u00e9,EA,6,,\n").encode("latin-1"))

    with pytest.raises(CommandError) as excinfo:
        call_command("items_import", str(path))

    assert "items-latin1.csv:2: byte" in str(excinfo.value) and "not UTF-8" in str(excinfo.value)


def test_every_bad_item_row_is_listed(work, tmp_path):
    body = "".join(f"acme-supply,NEW-{n},,Thing,EA,-{n},,\n" for n in range(1, 16))

    message = items_error(tmp_path, body)

    assert message.startswith("15 problem(s); nothing was imported")
    assert "items-new.csv:16: pack_size: -15 must be above 0" in message


# -- exchange rates --------------------------------------------------------------------------


def fx_error(tmp_path, body: str) -> str:
    path = tmp_path / "rates.csv"
    path.write_text("currency,quote,date,rate\n" + body)
    with pytest.raises(CommandError) as excinfo:
        call_command("fx_load", str(path))
    assert not ExchangeRate.objects.exists()
    return str(excinfo.value)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "EUR,USD,2026-01-02,1.1\nEUR,USD,2026-01-02,1.3\n",
            "rates.csv:3: date: EUR/USD on 2026-01-02 is also on line 2",
        ),
        ("XXQ,USD,2026-01-02,1.1\n", "rates.csv:2: currency: 'XXQ' is not an ISO 4217"),
        ("EUR,USD,2026-01-02,1e400\n", "rates.csv:2: rate: 1e400 is too large"),
        ("EUR,USD,2026-01-02\n", "rates.csv:2: row: has 3 of 4 values; it was cut short"),
        ("EUR,USD,2026-01-02,0.000000001\n", "rates.csv:2: rate: 0.000000001 rounds to 0"),
    ],
    ids=["same-day-twice", "currency-xxq", "rate-1e400", "truncated-row", "rate-rounds-to-zero"],
)
def test_bad_rate_rows_are_named_and_nothing_is_loaded(db, tmp_path, body, expected):
    assert expected in fx_error(tmp_path, body)


def test_a_non_utf8_rates_file_is_one_clear_error(db, tmp_path):
    path = tmp_path / "rates.csv"
    path.write_bytes(b"currency,quote,date,rate,source\nEUR,USD,2026-01-02,1.1,caf\xe9\n")

    with pytest.raises(
        CommandError, match=r"rates.csv:2: byte 59 \(0xE9, column 27\) is not UTF-8"
    ):
        call_command("fx_load", str(path))


def test_the_file_named_on_the_command_line_may_be_anywhere(work, secret):
    """Only files named inside an import are confined; the one given to the command is the
    operator's choice."""
    outside = secret.parent / "terms-elsewhere.csv"
    call_command("agreements_import", str(work / "agreements.json"))
    outside.write_text(
        "agreement,item,location,max_quantity,unit_cost\nacme-demo-retail,ACME-1002,,90,3.10\n"
    )

    call_command("agreements_import", str(outside))

    assert (
        AgreementTerm.objects.get(
            agreement__code="acme-demo-retail", item__vendor_item="ACME-1002", location=None
        ).max_quantity
        == 90
    )
