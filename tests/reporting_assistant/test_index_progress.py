"""assistant_index shows its progress on stderr and its results on stdout."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from smi_core.models import SupplyAgreement
from tests.finance_world import RETAIL_TEXT, build_finance_world


@pytest.mark.django_db
def test_assistant_index_shows_a_progress_bar_and_prints_the_counts(
    settings, tmp_path, monkeypatch
):
    monkeypatch.setenv("SMI_PROGRESS", "1")
    build_finance_world(settings, tmp_path)
    SupplyAgreement.objects.filter(code="retail").update(text=RETAIL_TEXT)
    out, err = io.StringIO(), io.StringIO()

    call_command("assistant_index", "retail", stdout=out, stderr=err)

    assert "indexing retail" in err.getvalue()
    assert out.getvalue().splitlines() == ["retail: 3 clause(s)", "3 clause(s) indexed"]
