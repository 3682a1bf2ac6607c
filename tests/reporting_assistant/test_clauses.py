"""Splitting supply agreements into clauses: the demo agreements, plain text and PDF."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reporting_assistant.clauses import (
    TOPICS,
    Clause,
    document_text,
    split_clauses,
    topic_for,
)

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _agreement_files() -> dict[str, Path]:
    agreements = json.loads((SAMPLES / "agreements.json").read_text())["agreements"]
    return {a["code"]: SAMPLES / a["text_file"] for a in agreements if a.get("text_file")}


def _split(code: str) -> list[Clause]:
    return split_clauses(document_text(_agreement_files()[code]), agreement=code)


EXPECTED = {
    "acme-demo-retail": [
        ("1", "Scope", "scope"),
        ("2", "Data sharing", "data_sharing"),
        ("3", "Ownership and consignment", "ownership"),
        ("4", "Payment terms", "payment_terms"),
        ("5", "Service level", "service_level"),
        ("6", "Lead time", "lead_time"),
        ("7", "Obsolete and slow-moving stock", "obsolescence"),
        ("8", "Pricing", "pricing"),
    ],
    "acme-city-mart": [
        ("1", "Scope", "scope"),
        ("2", "Data sharing", "data_sharing"),
        ("3", "Ownership", "ownership"),
        ("4", "Payment terms", "payment_terms"),
        ("5", "Service level", "service_level"),
        ("6", "Lead time", "lead_time"),
        ("7", "Obsolete stock", "obsolescence"),
        ("8", "Minimum order", "other"),
    ],
    "acme-stores-eu": [
        ("1", "Parties", "scope"),
        ("2", "Transfer pricing", "pricing"),
        ("3", "Currency", "currency"),
        ("4", "Payment terms", "payment_terms"),
        ("5", "Ownership", "ownership"),
        ("6", "Lead time", "lead_time"),
        ("7", "Service level", "service_level"),
        ("8", "Obsolete stock", "obsolescence"),
    ],
}


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_sample_agreements_split_into_their_numbered_clauses(code):
    clauses = _split(code)
    assert [(c.number, c.title, c.topic) for c in clauses] == EXPECTED[code]
    assert all(c.agreement == code and c.text for c in clauses)
    assert all(c.topic in TOPICS for c in clauses)


def test_every_sample_agreement_is_covered():
    assert set(_agreement_files()) == set(EXPECTED)


def test_clause_text_joins_wrapped_lines_and_leaves_out_the_heading():
    payment = _split("acme-demo-retail")[3]
    assert payment.text == (
        "Buyer pays for consumed goods within 30 days of the end of the week in which they "
        "were sold, in US dollars."
    )
    assert payment.embedding_text.startswith("Payment terms. Buyer pays")
    obsolete = _split("acme-city-mart")[6]
    assert "discontinues: Supplier buys back" in obsolete.text
    assert "\n" not in obsolete.text


def test_clause_is_frozen():
    clause = _split("acme-stores-eu")[0]
    with pytest.raises(AttributeError):
        clause.title = "x"  # type: ignore[misc]


PLAIN = """SUPPLY AGREEMENT
Between Acme Supply and Example Shop

Clause 1 - Scope
Supplier replenishes the items in Schedule A.

2. Payment terms
The Buyer pays within 30 days:
1. of the invoice date, for stock items;
2. of delivery, for special orders.

Section 3: Termination
Either party may terminate the agreement with 90 days' notice.

4. Currency
Invoices are in GBP.
"""


def test_plain_text_headings(tmp_path):
    path = tmp_path / "agreement.txt"
    path.write_text(PLAIN, encoding="utf-8")
    clauses = split_clauses(document_text(path), agreement="example")
    assert [(c.number, c.title, c.topic) for c in clauses] == [
        ("1", "Scope", "scope"),
        ("2", "Payment terms", "payment_terms"),
        ("3", "Termination", "termination"),
        ("4", "Currency", "currency"),
    ]
    # the numbered list inside clause 2 stays in clause 2
    assert "1. of the invoice date, for stock items; 2. of delivery" in clauses[1].text
    assert "SUPPLY AGREEMENT" not in " ".join(c.text for c in clauses)


def test_markdown_headings_with_clause_word_and_sub_numbers():
    text = (
        "# T\n\n## Clause 4 - Payment terms\nPay in 30 days.\n\n### 4.1 Late payment\nInterest.\n"
    )
    clauses = split_clauses(text, agreement="x")
    assert [(c.number, c.title) for c in clauses] == [
        ("4", "Payment terms"),
        ("4.1", "Late payment"),
    ]


def test_text_without_headings_is_one_clause():
    clauses = split_clauses("# Title\n\nThe Buyer pays within 30 days.\n", agreement="x")
    assert clauses == [Clause("x", "", "", "The Buyer pays within 30 days.", "payment_terms")]
    assert split_clauses("", agreement="x") == []


@pytest.mark.parametrize(
    ("title", "text", "topic"),
    [
        ("Payment terms", "", "payment_terms"),
        ("Retention of title", "", "ownership"),
        ("Consignment", "", "ownership"),
        ("Slow-moving stock", "", "obsolescence"),
        ("Fill rate", "", "service_level"),
        ("Delivery", "", "lead_time"),
        ("Rebates", "", "pricing"),
        ("Exchange rate", "", "currency"),
        ("EDI", "", "data_sharing"),
        ("Term and termination", "", "termination"),
        ("Definitions", "", "scope"),
        ("Confidentiality", "Each party keeps the other's secrets.", "other"),
        ("Miscellaneous", "Buyer pays each invoice within 45 days.", "payment_terms"),
        ("", "Title passes on receipt; the buyer owns the goods.", "ownership"),
    ],
)
def test_topic_rules(title, text, topic):
    assert topic_for(title, text) == topic


def _tiny_pdf(lines: list[str]) -> bytes:
    """A one-page PDF with these lines in Helvetica, written by hand (no PDF writer
    library is a project dependency; pypdf reads it back)."""

    def escape(s: str) -> str:
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    ops = ["BT", "/F1 11 Tf", "14 TL", "72 760 Td"]
    for line in lines:
        ops.append(f"({escape(line)}) Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def test_pdf_agreement(tmp_path):
    pytest.importorskip("pypdf")
    path = tmp_path / "agreement.pdf"
    path.write_bytes(
        _tiny_pdf(
            [
                "Supply Agreement: Acme Supply and Example Shop",
                "1. Ownership",
                "Title passes to the Buyer on receipt.",
                "2. Payment terms",
                "The Buyer pays within 60 days of the invoice date.",
            ]
        )
    )
    text = document_text(path)
    assert "Title passes to the Buyer on receipt." in text
    clauses = split_clauses(text, agreement="pdf")
    assert [(c.number, c.title, c.topic) for c in clauses] == [
        ("1", "Ownership", "ownership"),
        ("2", "Payment terms", "payment_terms"),
    ]
    assert clauses[1].text == "The Buyer pays within 60 days of the invoice date."


def test_other_file_types_are_refused(tmp_path):
    path = tmp_path / "agreement.docx"
    path.write_bytes(b"PK")
    with pytest.raises(ValueError, match=r"unsupported agreement file type '\.docx'"):
        document_text(path)


def test_unreadable_pdf_is_a_value_error(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"not a pdf at all")
    with pytest.raises(ValueError, match=r"broken\.pdf is not a readable PDF"):
        document_text(path)
