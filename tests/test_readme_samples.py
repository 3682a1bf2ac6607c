"""Every sample file the documentation names exists (a newcomer copies the curl example)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_sample_file_named_in_the_docs_exists():
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
    named = {
        match
        for doc in docs
        if doc.exists()
        for match in re.findall(r"samples/[\w./-]+\.(?:edi|csv|json|md|txt)", doc.read_text())
    }

    assert "samples/852/demo-retail-20261101.edi" in named  # the curl example
    assert [path for path in sorted(named) if not (ROOT / path).exists()] == []
