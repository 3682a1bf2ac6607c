"""The auditor's CSV of audit events: before and after as canonical JSON (what the hash
chain hashes), so a reader can parse them and recompute nothing differently."""

from __future__ import annotations

import csv
import io
import json

import pytest

from smi_core.models import AuditEvent
from smi_core.services.audit import Actor, audit_record
from tests.orders import person

pytestmark = pytest.mark.django_db


def test_the_audit_csv_carries_before_and_after_as_canonical_json(client):
    audit_record(
        actor=Actor.system("test"),
        action="test.change",
        object_type="test",
        object_id=7,
        before={"b": "1.50", "a": None},
        after={"b": "2", "a": ["x"]},
    )
    client.force_login(person("aud", "auditor"))

    response = client.get("/admin/smi_core/auditevent/?export=csv&action=test.change")

    assert response.status_code == 200
    lines = [line for line in response.content.decode().splitlines() if not line.startswith("#")]
    (row,) = list(csv.DictReader(io.StringIO("\n".join(lines))))
    assert row["before"] == '{"a":null,"b":"1.50"}'
    assert json.loads(row["after"]) == {"a": ["x"], "b": "2"}
    assert AuditEvent.objects.filter(action="audit.export").count() == 1  # itself audited
