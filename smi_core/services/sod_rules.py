"""Changing SoD rules: audited, with history."""

from __future__ import annotations

from django.db import transaction

from smi_core.models import SodRule
from smi_core.services.audit import Actor, audit_record


def sod_rule_save(*, rule: SodRule, user, request=None) -> SodRule:
    with transaction.atomic():
        before = None
        if rule.pk:
            old = SodRule.objects.get(pk=rule.pk)
            before = {
                "kind": old.kind,
                "parameters": old.parameters,
                "active": old.active,
                "reason": old.reason,
            }
        rule._history_user = user
        rule.save()
        audit_record(
            actor=Actor.user(user, request),
            action="sod_rule.save",
            object_type="sod_rule",
            object_id=rule.code,
            before=before,
            after={
                "kind": rule.kind,
                "parameters": rule.parameters,
                "active": rule.active,
                "reason": rule.reason,
            },
        )
    return rule
