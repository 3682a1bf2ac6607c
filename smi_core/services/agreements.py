"""Onboarding agreements in bulk: JSON (agreements with their terms and capacities) and
CSV (item terms). Everything is checked first; one bad row and nothing is applied.
Re-importing the same file changes nothing; a changed file updates with history (naming the
user the import acts as, so SOD-02 sees who changed an agreement) and one audit event per
created or updated agreement, term or capacity, in the same transaction.

``agreement_save`` and ``agreement_delete`` do the same for a single record (the admin)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from smi_core.exceptions import ApplicationError
from smi_core.models import AgreementTerm, Item, Location, Party, SupplierCapacity, SupplyAgreement
from smi_core.services.audit import Actor, audit_record
from smi_core.services.hooks import agreements_changed
from smi_core.services.import_rows import (
    ImportRejected,
    LinedDict,
    RowErrors,
    Seen,
    csv_rows,
    currency_code,
    decimal_for,
    json_with_lines,
    nonneg_int,
    read_utf8,
    resolve_inside,
    text_for,
)

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
    "billing_cycle": str,
    "consumption_basis": str,
    "settlement_method": str,
    "settlement_po_number": str,
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
_SLUG = re.compile(r"[-a-zA-Z0-9_]+")


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
    ``agreements_import``, and the history names nobody). Files the JSON names
    (``text_file``, ``terms_csv``) are read only from inside the import root: the JSON's
    folder, or ``SMI_IMPORT_ROOT`` when set."""
    if actor is None:
        actor = Actor.user(user) if user is not None else Actor.system(IMPORT_ACTOR)
    who = _Who(user, actor, path.name)
    text = _read(path, path.name)
    if path.suffix.lower() == ".csv":
        return _import_terms_csv(text, who=who, name=path.name)
    return _import_json(json_with_lines(text, name=path.name), path=path, who=who)


def _read(path: Path, name: str) -> str:
    try:
        return read_utf8(path, name=name)
    except ImportRejected as exc:
        raise AgreementImportRejected(exc.message, extra=exc.extra) from None


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


class _Errors(RowErrors):
    def raise_if_any(self, error=AgreementImportRejected, what: str = "") -> None:
        super().raise_if_any(error, what)


@dataclass(frozen=True)
class _Loc:
    """Where a value is: ``file:line`` and its JSON path (empty in a CSV row)."""

    where: str
    path: str = ""

    def of(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def add(self, errors: _Errors, name: str, problem: str) -> None:
        errors.add(self.where, self.of(name) if name else self.path, problem)


def _line(obj, default: int) -> int:
    return getattr(obj, "line", 0) or default


def _convert(kind, value, loc: _Loc, name: str, errors: _Errors, model=None):
    """``value`` as ``kind``, within what ``model``'s field holds; None (and an error)
    when it is not."""
    if value is None or value == "":
        return None
    try:
        if kind is Decimal:
            return decimal_for(model, name, value)
        if kind is int:
            return nonneg_int(value)
        if kind is bool:
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "yes", "1"):
                return True
            if str(value).lower() in ("false", "no", "0"):
                return False
            raise ValueError(f"{value!r} is not true or false")
        if kind is date:
            if not isinstance(value, str):
                raise ValueError(f"{value!r} is not a date YYYY-MM-DD")
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a date YYYY-MM-DD") from None
        return text_for(model, name, value) if model is not None else str(value)
    except ValueError as exc:
        loc.add(errors, name, str(exc))
        return None


def _text(raw: dict, name: str) -> str:
    value = raw.get(name)
    return value.strip() if isinstance(value, str) else ""


def _check_agreement(raw: dict, loc: _Loc, errors: _Errors, parties: dict[str, Party]) -> dict:
    values: dict = {}
    for key in raw.repeated if isinstance(raw, LinedDict) else ():
        loc.add(errors, key, "appears more than once in this agreement; keep one")
    for key in ("code", "buyer", "supplier", "currency", "effective_from"):
        if not raw.get(key):
            loc.add(errors, key, "is required")
    code = raw.get("code")
    if code:
        if not isinstance(code, str) or not _SLUG.fullmatch(code):
            loc.add(errors, "code", f"{code!r} is not a code of letters, digits, - and _")
        else:
            _convert(str, code, loc, "code", errors, SupplyAgreement)
    for role in ("buyer", "supplier"):
        name = raw.get(role)
        party = parties.get(name) if isinstance(name, str) else None
        if name and (party is None or not getattr(party, f"is_{role}")):
            loc.add(errors, role, f"{name!r} is not a registered {role}")
        values[role] = party
    for name, kind in AGREEMENT_FIELDS.items():
        if name == "currency":
            continue
        if name in raw:
            values[name] = _convert(kind, raw[name], loc, name, errors, SupplyAgreement)
    if raw.get("currency"):
        try:
            values["currency"] = currency_code(raw["currency"])
        except ValueError as exc:
            loc.add(errors, "currency", str(exc))
    if values.get("ownership") and values["ownership"] not in SupplyAgreement.Ownership.values:
        loc.add(
            errors,
            "ownership",
            f"must be one of {', '.join(SupplyAgreement.Ownership.values)}",
        )
    if values.get("cadence") and values["cadence"] not in SupplyAgreement.Cadence.values:
        loc.add(errors, "cadence", f"must be one of {', '.join(SupplyAgreement.Cadence.values)}")
    for name, choices in (
        ("billing_cycle", SupplyAgreement.BillingCycle),
        ("consumption_basis", SupplyAgreement.ConsumptionBasis),
        ("settlement_method", SupplyAgreement.SettlementMethod),
    ):
        if values.get(name) and values[name] not in choices.values:
            loc.add(errors, name, f"must be one of {', '.join(choices.values)}")
    level = values.get("service_level")
    if level is not None and not Decimal(0) < level < Decimal(1):
        loc.add(errors, "service_level", f"{level} must be between 0 and 1 (0.95 = 95 %)")
    margin = values.get("seller_gross_margin")
    if margin is not None and not margin < Decimal(1):
        loc.add(errors, "seller_gross_margin", f"{margin} must be below 1 (0.25 = 25 %)")
    if values.get("intercompany") and values.get("seller_gross_margin") is None:
        loc.add(errors, "seller_gross_margin", "an intercompany agreement needs it")
    start, end = values.get("effective_from"), values.get("effective_to")
    if start and end and start > end:
        loc.add(
            errors,
            "effective_to",
            f"{end.isoformat()} is before effective_from {start.isoformat()}",
        )
    return values


def _check_term(
    raw: dict, loc: _Loc, errors: _Errors, supplier: Party | None, buyer: Party | None
) -> dict:
    for key in raw.repeated if isinstance(raw, LinedDict) else ():
        loc.add(errors, key, "appears more than once in this term; keep one")
    values = {
        name: _convert(kind, raw.get(name), loc, name, errors, AgreementTerm)
        for name, kind in TERM_FIELDS.items()
    }
    if raw.get("unit_cost") in (None, ""):
        loc.add(errors, "unit_cost", "is required")
    vendor_item = _text(raw, "item")
    item = (
        Item.objects.filter(supplier=supplier, vendor_item=vendor_item).first()
        if supplier and vendor_item
        else None
    )
    if item is None:
        loc.add(errors, "item", f"{raw.get('item')!r} is not an item of the supplier")
    location = None
    if raw.get("location"):
        code = _text(raw, "location")
        location = (
            Location.objects.filter(party=buyer, code=code).first() if buyer and code else None
        )
        if location is None:
            loc.add(errors, "location", f"{raw['location']!r} is not a location of the buyer")
    for low, high in (("min_quantity", "max_quantity"), ("min_days", "max_days")):
        if values[low] is not None and values[high] is not None and values[low] > values[high]:
            loc.add(errors, low, f"{values[low]} is above {high} {values[high]}")
    if values["pack_multiple"] == 0:
        loc.add(errors, "pack_multiple", "must be above 0")
    values["item"], values["location"] = item, location
    values["where"] = loc.where
    values["unknown"] = item is None or (location is None and bool(raw.get("location")))
    return values


def _check_duplicate_terms(terms: list[dict], code: str, errors: _Errors) -> None:
    """Two terms for one item at one location (or for every location) in one import."""
    seen = Seen()
    for term in terms:
        if term["unknown"]:
            continue
        scope = f"at {term['location'].code}" if term["location"] else "(every location)"
        first = seen.first((code, term["item"].pk, term["location"]), term["where"])
        if first is not None:
            same_file = first.rsplit(":", 1)[0] == term["where"].rsplit(":", 1)[0]
            errors.add(
                term["where"],
                "item",
                f"{term['item'].vendor_item} {scope} is also on "
                + (f"line {first.rsplit(':', 1)[1]}" if same_file else first),
            )


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


def _list(raw: dict, key: str, loc: _Loc, errors: _Errors) -> list:
    value = raw.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        loc.add(errors, key, f"{value!r} is not a list"[:200])
        return []
    return value


def _object(value, loc: _Loc, errors: _Errors) -> bool:
    if isinstance(value, dict):
        return True
    errors.add(loc.where, loc.path, f"{value!r} is not an object {{...}}"[:200])
    return False


def _nested_file(raw: dict, key: str, loc: _Loc, errors: _Errors, importing: Path) -> str | None:
    """The text of the file ``raw[key]`` names, read from inside the import root."""
    name = raw[key]
    try:
        path = resolve_inside(importing, name)
    except ValueError as exc:
        loc.add(errors, key, str(exc))
        return None
    try:
        return read_utf8(path, name=name)
    except ImportRejected as exc:
        if exc.code == "not_utf8":
            errors.lines.append(exc.message)
        else:
            loc.add(errors, key, f"{name!r} cannot be read: {exc.message}")
        return None


def _import_json(data, *, path: Path, who: _Who) -> ImportSummary:
    errors = _Errors()
    name = path.name
    if not isinstance(data, dict) or not isinstance(data.get("agreements"), list):
        raise AgreementImportRejected('the JSON must be an object with a list "agreements"')
    for key in getattr(data, "repeated", ()):
        errors.add(f"{name}:{_line(data, 1)}", key, "appears more than once; keep one")
    parties = {p.code: p for p in Party.objects.all()}
    checked = []
    codes = Seen()
    for i, raw in enumerate(data["agreements"]):
        loc = _Loc(f"{name}:{_line(raw, _line(data, 1))}", f"agreements[{i}]")
        if not _object(raw, loc, errors):
            continue
        values = _check_agreement(raw, loc, errors, parties)
        code = raw.get("code") if isinstance(raw.get("code"), str) else None
        if code:
            first = codes.first(code, _line(raw, 0))
            if first is not None:
                loc.add(errors, "code", f"{code!r} is also on line {first}")
        if raw.get("text_file"):
            text = _nested_file(raw, "text_file", loc, errors, path)
            if text is not None:
                values["text"] = text
        terms = []
        for j, t in enumerate(_list(raw, "terms", loc, errors)):
            tloc = _Loc(f"{name}:{_line(t, _line(raw, 0))}", f"{loc.path}.terms[{j}]")
            if _object(t, tloc, errors):
                terms.append(
                    _check_term(t, tloc, errors, values.get("supplier"), values.get("buyer"))
                )
        if raw.get("terms_csv"):
            csv_text = _nested_file(raw, "terms_csv", loc, errors, path)
            if csv_text is not None:
                terms += _check_terms_csv(
                    csv_text,
                    errors,
                    only=code,
                    name=str(raw["terms_csv"]),
                    agreements={code: values},
                )
        _check_duplicate_terms(terms, code or "", errors)
        capacities = []
        groups = Seen()
        for j, cap in enumerate(_list(raw, "capacities", loc, errors)):
            cloc = _Loc(f"{name}:{_line(cap, _line(raw, 0))}", f"{loc.path}.capacities[{j}]")
            if not _object(cap, cloc, errors):
                continue
            units = _convert(
                Decimal, cap.get("units_per_week"), cloc, "units_per_week", errors, SupplierCapacity
            )
            item = None
            if cap.get("item"):
                vendor_item = _text(cap, "item")
                item = (
                    Item.objects.filter(
                        supplier=values.get("supplier"), vendor_item=vendor_item
                    ).first()
                    if vendor_item
                    else None
                )
                if item is None:
                    cloc.add(errors, "item", f"{cap['item']!r} is not an item of the supplier")
                key = ("item", vendor_item)
            elif not cap.get("item_group"):
                cloc.add(errors, "item", "give an item or an item_group")
                key = None
            else:
                group = _convert(
                    str, cap["item_group"], cloc, "item_group", errors, SupplierCapacity
                )
                key = ("item_group", group) if group else None
            if key is not None:
                first = groups.first(key, _line(cap, 0))
                if first is not None:
                    cloc.add(errors, key[0], f"{key[1]!r} is also on line {first}")
            if units is None and cap.get("units_per_week") in (None, ""):
                cloc.add(errors, "units_per_week", "is required")
            capacities.append(
                {
                    "item": item,
                    "item_group": "" if item else str(cap.get("item_group", "")),
                    "units_per_week": units,
                }
            )
        checked.append((code, values, terms, capacities))
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
    _, rows = csv_rows(text, name=name, errors=errors, required=("agreement", "item", "unit_cost"))
    known = agreements or {
        a.code: {"supplier": a.supplier, "buyer": a.buyer, "code": a.code}
        for a in SupplyAgreement.objects.select_related("supplier", "buyer")
    }
    terms = []
    for line, row in rows:
        loc = _Loc(f"{name}:{line}")
        code = row.get("agreement", "")
        if only is not None and code != only:
            loc.add(
                errors, "agreement", f"{code!r} is not {only!r}, the agreement this file belongs to"
            )
            continue
        agreement = known.get(code)
        if agreement is None:
            loc.add(errors, "agreement", f"{code!r} does not exist")
            continue
        term = _check_term(row, loc, errors, agreement.get("supplier"), agreement.get("buyer"))
        term["agreement_code"] = code
        terms.append(term)
    return terms


def _import_terms_csv(text: str, *, who: _Who, name: str) -> ImportSummary:
    errors = _Errors()
    terms = _check_terms_csv(text, errors, name=name)
    for code in sorted({t["agreement_code"] for t in terms}):
        _check_duplicate_terms([t for t in terms if t["agreement_code"] == code], code, errors)
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
