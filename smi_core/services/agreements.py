"""Onboarding agreements in bulk: JSON (agreements with their terms and capacities) and
CSV (item terms). Everything is checked first; one bad row and nothing is applied.
Re-importing the same file changes nothing; a changed file updates with history (naming the
user the import acts as, so SOD-02 sees who changed an agreement) and one audit event per
created or updated agreement, term or capacity, in the same transaction.

``agreement_save`` and ``agreement_delete`` do the same for a single record (the admin)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import transaction

from smi_core.exceptions import ApplicationError
from smi_core.models import AgreementTerm, Item, Location, Party, SupplierCapacity, SupplyAgreement
from smi_core.services.audit import Actor, audit_record
from smi_core.services.hooks import agreements_changed

IMPORT_ACTOR = "agreements_import"  # the system actor of an import no user was named for

AGREEMENT_FIELDS = {
    "currency": str,
    "payment_terms_days": int,
    "ownership": str,
    "intercompany": bool,
    "seller_gross_margin": Decimal,
    "service_level": Decimal,
    "review_period_days": int,
    "lead_time_days": Decimal,
    "lead_time_sigma_days": Decimal,
    "cadence": str,
    "effective_from": date,
    "effective_to": date,
    "text": str,
}
TERM_FIELDS = {
    "min_quantity": Decimal,
    "max_quantity": Decimal,
    "min_days": Decimal,
    "max_days": Decimal,
    "moq": Decimal,
    "pack_multiple": Decimal,
    "unit_cost": Decimal,
    "lead_time_days": Decimal,
    "net_selling_price": Decimal,
}
TERM_CSV_COLUMNS = ("agreement", "item", "location", *TERM_FIELDS)


class AgreementImportRejected(ApplicationError):
    code = "agreement_import_rejected"


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    details: list[str] = field(default_factory=list)
    agreements_changed: set[int] = field(default_factory=set)  # created or updated


@dataclass(frozen=True)
class _Who:
    """Who an import acts as: ``user`` for the history records (SOD-02 reads them), ``actor``
    for the audit events, ``source`` the file."""

    user: object
    actor: Actor
    source: str


def agreements_import(*, path: Path, user=None, actor: Actor | None = None) -> ImportSummary:
    """Import a JSON or CSV file (by its extension) as ``user`` (None: the system actor
    ``agreements_import``, and the history names nobody)."""
    if actor is None:
        actor = Actor.user(user) if user is not None else Actor.system(IMPORT_ACTOR)
    who = _Who(user, actor, path.name)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise AgreementImportRejected(f"cannot read {path}: {exc.strerror}") from exc
    if path.suffix.lower() == ".csv":
        return _import_terms_csv(text, who=who, name=path.name)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AgreementImportRejected(
            f"{path.name} line {exc.lineno}: not valid JSON ({exc.msg})"
        ) from exc
    return _import_json(data, base=path.parent, who=who)


# -- auditing a change --------------------------------------------------------------------

_KINDS = {
    SupplyAgreement: "agreement",
    AgreementTerm: "agreement_term",
    SupplierCapacity: "supplier_capacity",
}


def _audited_value(name: str, value):
    if name == "text" and value:  # the agreement's text: its digest, not the whole text
        return {"sha256": hashlib.sha256(value.encode("utf-8")).hexdigest(), "chars": len(value)}
    return value


def _snapshot(obj) -> dict:
    return {
        f.attname: _audited_value(f.attname, getattr(obj, f.attname))
        for f in type(obj)._meta.concrete_fields
        if not f.primary_key
    }


def _stored_snapshot(obj) -> dict | None:
    if obj.pk is None:
        return None
    stored = type(obj).objects.filter(pk=obj.pk).first()
    return _snapshot(stored) if stored is not None else None


def agreement_change_record(*, obj, before: dict | None, actor: Actor, source: str = ""):
    """Audit a created or updated agreement, term or capacity: every field when created,
    the changed fields before and after when updated (nothing when nothing changed). Call
    it in the transaction of the change."""
    kind = _KINDS[type(obj)]
    after = _snapshot(obj)
    if before is None:
        action, old, new = f"{kind}.created", None, after
    else:
        changed = sorted(k for k in after if before.get(k) != after[k])
        if not changed:
            return None
        action = f"{kind}.updated"
        old = {k: before.get(k) for k in changed}
        new = {k: after[k] for k in changed}
    if source:
        new = {**new, "source": source}
    return audit_record(
        actor=actor, action=action, object_type=kind, object_id=obj.pk, before=old, after=new
    )


def agreement_save(*, obj, actor: Actor, user=None, reason: str = "") -> list[str]:
    """Save an agreement or a term (or a capacity) as changed by hand: a history record
    naming ``user`` and an audit event of what changed, in one transaction. Returns the
    names of the changed fields (every field for a new record)."""
    with transaction.atomic():
        before = _stored_snapshot(obj)
        obj._history_user = user
        if reason:
            obj._change_reason = reason
        obj.save()
        event = agreement_change_record(obj=obj, before=before, actor=actor)
        if event is not None and isinstance(obj, AgreementTerm):
            agreement_version_bump(agreement=obj.agreement, user=user, reason="term changed")
    if event is None:
        return []
    return sorted(k for k in (event.after or {}) if k != "source")


def agreement_delete(*, obj, actor: Actor, user=None) -> None:
    """Delete an agreement or a term (or a capacity) with its history record and an audit
    event holding what it was."""
    kind = _KINDS[type(obj)]
    with transaction.atomic():
        before = _stored_snapshot(obj) or _snapshot(obj)
        object_id = obj.pk
        obj._history_user = user
        agreement = obj.agreement if isinstance(obj, AgreementTerm) else None
        if isinstance(obj, SupplyAgreement):  # its terms go with it: each one on record
            for term in obj.terms.all():
                audit_record(
                    actor=actor,
                    action="agreement_term.deleted",
                    object_type="agreement_term",
                    object_id=term.pk,
                    before=_snapshot(term),
                    after={"with_agreement": object_id},
                )
        obj.delete()
        if agreement is not None:
            agreement_version_bump(agreement=agreement, user=user, reason="term deleted")
        audit_record(
            actor=actor,
            action=f"{kind}.deleted",
            object_type=kind,
            object_id=object_id,
            before=before,
        )


def agreement_version_bump(*, agreement: SupplyAgreement, user, reason: str) -> None:
    """A term of ``agreement`` changed: record a new version of the agreement, so plans
    name the version they used and an approval made under the old terms no longer binds
    (call it in the transaction of the change)."""
    agreement._history_user = user
    agreement._change_reason = reason[:100]
    agreement.save()


# -- checking -----------------------------------------------------------------------------


class _Errors(list):
    def add(self, where: str, message: str) -> None:
        self.append(f"{where}: {message}")

    def raise_if_any(self) -> None:
        if self:
            raise AgreementImportRejected(
                f"{len(self)} problem(s); nothing was imported:\n" + "\n".join(self),
                extra={"errors": list(self)},
            )


def _convert(kind, value, where: str, name: str, errors: _Errors):
    if value is None or value == "":
        return None
    try:
        if kind is Decimal:
            number = Decimal(str(value))
            if not number.is_finite() or number < 0:
                raise InvalidOperation
            return number
        if kind is int:
            if isinstance(value, bool) or int(value) != float(value) or int(value) < 0:
                raise ValueError
            return int(value)
        if kind is bool:
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "yes", "1"):
                return True
            if str(value).lower() in ("false", "no", "0"):
                return False
            raise ValueError
        if kind is date:
            return date.fromisoformat(str(value))
        return str(value)
    except (InvalidOperation, ValueError, TypeError):
        expected = {
            Decimal: "a number >= 0",
            int: "a whole number >= 0",
            bool: "true or false",
            date: "a date YYYY-MM-DD",
        }
        errors.add(where, f"{name} {value!r} is not {expected.get(kind, 'valid')}")
        return None


def _check_agreement(raw: dict, where: str, errors: _Errors, parties: dict[str, Party]) -> dict:
    values: dict = {}
    for key in ("code", "buyer", "supplier", "currency", "effective_from"):
        if not raw.get(key):
            errors.add(where, f"{key} is required")
    for role in ("buyer", "supplier"):
        party = parties.get(raw.get(role, ""))
        if raw.get(role) and (party is None or not getattr(party, f"is_{role}")):
            errors.add(where, f"{role} {raw.get(role)!r} is not a registered {role}")
        values[role] = party
    for name, kind in AGREEMENT_FIELDS.items():
        if name in raw:
            values[name] = _convert(kind, raw[name], where, name, errors)
    if values.get("ownership") and values["ownership"] not in SupplyAgreement.Ownership.values:
        errors.add(where, f"ownership must be one of {', '.join(SupplyAgreement.Ownership.values)}")
    if values.get("cadence") and values["cadence"] not in SupplyAgreement.Cadence.values:
        errors.add(where, f"cadence must be one of {', '.join(SupplyAgreement.Cadence.values)}")
    level = values.get("service_level")
    if level is not None and not Decimal(0) < level < Decimal(1):
        errors.add(where, f"service_level {level} must be between 0 and 1 (0.95 = 95 %)")
    if values.get("currency") and (
        len(values["currency"]) != 3 or not values["currency"].isalpha()
    ):
        errors.add(where, f"currency {values['currency']!r} is not a 3-letter ISO code")
    if values.get("intercompany") and values.get("seller_gross_margin") is None:
        errors.add(where, "an intercompany agreement needs seller_gross_margin")
    if values.get("currency"):
        values["currency"] = values["currency"].upper()
    return values


def _check_term(
    raw: dict, where: str, errors: _Errors, supplier: Party | None, buyer: Party | None
) -> dict:
    values = {
        name: _convert(kind, raw.get(name), where, name, errors)
        for name, kind in TERM_FIELDS.items()
    }
    if raw.get("unit_cost") in (None, ""):
        errors.add(where, "unit_cost is required")
    item = (
        Item.objects.filter(supplier=supplier, vendor_item=raw.get("item") or "").first()
        if supplier
        else None
    )
    if item is None:
        errors.add(where, f"item {raw.get('item')!r} is not an item of the supplier")
    location = None
    if raw.get("location"):
        location = (
            Location.objects.filter(party=buyer, code=raw["location"]).first() if buyer else None
        )
        if location is None:
            errors.add(where, f"location {raw['location']!r} is not a location of the buyer")
    for low, high in (("min_quantity", "max_quantity"), ("min_days", "max_days")):
        if values[low] is not None and values[high] is not None and values[low] > values[high]:
            errors.add(where, f"{low} {values[low]} is above {high} {values[high]}")
    if values["pack_multiple"] == 0:
        errors.add(where, "pack_multiple must be above 0")
    values["item"], values["location"] = item, location
    return values


# -- applying -----------------------------------------------------------------------------


def _apply(model, lookup: dict, values: dict, summary: ImportSummary, label: str, who: _Who):
    """Create, update only what changed (a history record and an audit event per real
    change, naming who imported), or leave alone."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values)
        obj._history_user = who.user
        obj._change_reason = f"imported from {who.source}"[:100]
        obj.save()
        agreement_change_record(obj=obj, before=None, actor=who.actor, source=who.source)
        summary.created += 1
        summary.details.append(f"created {label}")
        return obj
    changed = [k for k, v in values.items() if getattr(obj, k) != v]
    if changed:
        before = _snapshot(obj)
        for k in changed:
            setattr(obj, k, values[k])
        obj._history_user = who.user
        obj._change_reason = f"imported from {who.source}"[:100]
        obj.save()
        agreement_change_record(obj=obj, before=before, actor=who.actor, source=who.source)
        summary.updated += 1
        summary.details.append(f"updated {label}: {', '.join(changed)}")
    else:
        summary.unchanged += 1
    return obj


def _import_json(data, *, base: Path, who: _Who) -> ImportSummary:
    errors = _Errors()
    if not isinstance(data, dict) or not isinstance(data.get("agreements"), list):
        raise AgreementImportRejected('the JSON must be an object with a list "agreements"')
    parties = {p.code: p for p in Party.objects.all()}
    checked = []
    for i, raw in enumerate(data["agreements"]):
        where = f"agreements[{i}] ({raw.get('code', '?')})"
        values = _check_agreement(raw, where, errors, parties)
        if raw.get("text_file"):
            try:
                values["text"] = (base / raw["text_file"]).read_text(encoding="utf-8")
            except OSError as exc:
                errors.add(where, f"text_file {raw['text_file']!r} cannot be read: {exc.strerror}")
        terms = [
            _check_term(
                t, f"{where}.terms[{j}]", errors, values.get("supplier"), values.get("buyer")
            )
            for j, t in enumerate(raw.get("terms", []))
        ]
        if raw.get("terms_csv"):
            try:
                csv_text = (base / raw["terms_csv"]).read_text(encoding="utf-8-sig")
            except OSError as exc:
                errors.add(where, f"terms_csv {raw['terms_csv']!r} cannot be read: {exc.strerror}")
            else:
                terms += _check_terms_csv(
                    csv_text,
                    errors,
                    only=raw.get("code"),
                    name=raw["terms_csv"],
                    agreements={raw.get("code"): values},
                )
        capacities = []
        for j, cap in enumerate(raw.get("capacities", [])):
            cwhere = f"{where}.capacities[{j}]"
            units = _convert(Decimal, cap.get("units_per_week"), cwhere, "units_per_week", errors)
            item = None
            if cap.get("item"):
                item = Item.objects.filter(
                    supplier=values.get("supplier"), vendor_item=cap["item"]
                ).first()
                if item is None:
                    errors.add(cwhere, f"item {cap['item']!r} is not an item of the supplier")
            elif not cap.get("item_group"):
                errors.add(cwhere, "give an item or an item_group")
            if units is None:
                errors.add(cwhere, "units_per_week is required")
            capacities.append(
                {
                    "item": item,
                    "item_group": "" if item else cap.get("item_group", ""),
                    "units_per_week": units,
                }
            )
        checked.append((raw["code"] if raw.get("code") else None, values, terms, capacities))
    errors.raise_if_any()

    summary = ImportSummary()
    with transaction.atomic():
        for code, values, terms, capacities in checked:
            fields = {k: v for k, v in values.items() if k not in ("buyer", "supplier")}
            before = summary.created + summary.updated
            agreement = _apply(
                SupplyAgreement,
                {"code": code},
                {"buyer": values["buyer"], "supplier": values["supplier"], **fields},
                summary,
                f"agreement {code}",
                who,
            )
            if summary.created + summary.updated > before:
                summary.agreements_changed.add(agreement.pk)
            terms_before = summary.created + summary.updated
            for term in terms:
                lookup = {
                    "agreement": agreement,
                    "item": term["item"],
                    "location": term["location"],
                }
                rest = {k: term[k] for k in TERM_FIELDS}
                _apply(
                    AgreementTerm,
                    lookup,
                    rest,
                    summary,
                    f"term {code}/{term['item'].vendor_item}",
                    who,
                )
            if summary.created + summary.updated > terms_before:
                agreement_version_bump(
                    agreement=agreement, user=who.user, reason=f"terms imported from {who.source}"
                )
            for cap in capacities:
                lookup = {
                    "supplier": agreement.supplier,
                    "item": cap["item"],
                    "item_group": cap["item_group"],
                }
                _apply(
                    SupplierCapacity,
                    lookup,
                    {"units_per_week": cap["units_per_week"]},
                    summary,
                    f"capacity {cap['item'] or cap['item_group']}",
                    who,
                )
    if summary.agreements_changed:
        changed = sorted(summary.agreements_changed)
        transaction.on_commit(lambda: agreements_changed(agreement_ids=changed))
    return summary


def _check_terms_csv(
    text: str,
    errors: _Errors,
    *,
    name: str,
    only: str | None = None,
    agreements: dict | None = None,
) -> list[dict]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("agreement", "item", "unit_cost") if c not in (reader.fieldnames or [])]
    if missing:
        errors.add(
            name,
            f"the header lacks {', '.join(missing)}; columns are {', '.join(TERM_CSV_COLUMNS)}",
        )
        return []
    known = agreements or {
        a.code: {"supplier": a.supplier, "buyer": a.buyer, "code": a.code}
        for a in SupplyAgreement.objects.select_related("supplier", "buyer")
    }
    terms = []
    for row in reader:
        where = f"{name} line {reader.line_num}"
        code = (row.get("agreement") or "").strip()
        if only is not None and code != only:
            errors.add(
                where, f"agreement {code!r} is not {only!r}, the agreement this file belongs to"
            )
            continue
        agreement = known.get(code)
        if agreement is None:
            errors.add(where, f"agreement {code!r} does not exist")
            continue
        term = _check_term(
            {k: (v or "").strip() for k, v in row.items() if k},
            where,
            errors,
            agreement.get("supplier"),
            agreement.get("buyer"),
        )
        term["agreement_code"] = code
        terms.append(term)
    return terms


def _import_terms_csv(text: str, *, who: _Who, name: str) -> ImportSummary:
    errors = _Errors()
    terms = _check_terms_csv(text, errors, name=name)
    errors.raise_if_any()
    summary = ImportSummary()
    agreements = {
        a.code: a
        for a in SupplyAgreement.objects.filter(code__in={t["agreement_code"] for t in terms})
    }
    with transaction.atomic():
        touched = {}
        for term in terms:
            agreement = agreements[term["agreement_code"]]
            lookup = {"agreement": agreement, "item": term["item"], "location": term["location"]}
            before = summary.created + summary.updated
            _apply(
                AgreementTerm,
                lookup,
                {k: term[k] for k in TERM_FIELDS},
                summary,
                f"term {agreement.code}/{term['item'].vendor_item}",
                who,
            )
            if summary.created + summary.updated > before:
                touched[agreement.pk] = agreement
        for agreement in touched.values():
            agreement_version_bump(
                agreement=agreement, user=who.user, reason=f"terms imported from {who.source}"
            )
    return summary
