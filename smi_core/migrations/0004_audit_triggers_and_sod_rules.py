"""The audit trail is append-only in the database itself, and the default SoD rules exist."""

from django.db import migrations

SQLITE = [
    "CREATE TRIGGER smi_audit_no_update BEFORE UPDATE ON smi_core_auditevent "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only: UPDATE refused'); END",
    "CREATE TRIGGER smi_audit_no_delete BEFORE DELETE ON smi_core_auditevent "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only: DELETE refused'); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS smi_audit_no_update",
    "DROP TRIGGER IF EXISTS smi_audit_no_delete",
]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION smi_audit_refuse() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP;
    END;
    $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER smi_audit_no_update_delete BEFORE UPDATE OR DELETE ON smi_core_auditevent "
    "FOR EACH ROW EXECUTE FUNCTION smi_audit_refuse()",
    "CREATE TRIGGER smi_audit_no_truncate BEFORE TRUNCATE ON smi_core_auditevent "
    "FOR EACH STATEMENT EXECUTE FUNCTION smi_audit_refuse()",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS smi_audit_no_update_delete ON smi_core_auditevent",
    "DROP TRIGGER IF EXISTS smi_audit_no_truncate ON smi_core_auditevent",
    "DROP FUNCTION IF EXISTS smi_audit_refuse()",
]

RULES = [
    (
        "SOD-01",
        "proposer_not_approver",
        {},
        "The person who proposed or last edited a proposal may not approve it: every order needs a second pair of eyes.",
    ),
    (
        "SOD-02",
        "recent_terms_change",
        {"days": 30},
        "Someone who changed the governing agreement or its terms in the last 30 days may not approve orders under "
        "it: they could set the thresholds to suit an order and then approve it themselves.",
    ),
    (
        "SOD-03",
        "approver_not_shipper",
        {},
        "The approver of an order may not also ship it: approving and handling the goods stay with different people.",
    ),
    (
        "SOD-04",
        "exclusive_roles",
        {"roles": ["approver", "agreement_manager"]},
        "One person may not hold both the approver and the agreement manager roles: whoever sets the terms must not "
        "approve the orders they produce.",
    ),
]


def _run(statements):
    def apply(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for sql in statements.get(vendor, []):
            schema_editor.execute(sql, params=None)

    return apply


def add_rules(apps, schema_editor):
    SodRule = apps.get_model("smi_core", "SodRule")
    for code, kind, parameters, reason in RULES:
        SodRule.objects.get_or_create(
            code=code, defaults={"kind": kind, "parameters": parameters, "reason": reason}
        )


def remove_rules(apps, schema_editor):
    apps.get_model("smi_core", "SodRule").objects.filter(code__in=[r[0] for r in RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("smi_core", "0003_planrun_sodrule_item_group_alter_exceptionitem_kind_and_more")
    ]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
        ),
        migrations.RunPython(add_rules, remove_rules),
    ]
