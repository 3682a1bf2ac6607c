"""Onboarding trading partners."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.authtoken.models import Token

from smi_core.exceptions import ApplicationError
from smi_core.models import Party
from smi_core.services.import_rows import (
    gtin14,
    isa_id_problem,
    text_for,
    x12_text_problem,
)
from smi_edi.models import TradingPartner

ISA_QUALIFIERS = {
    "01",
    "02",
    "08",
    "09",
    "12",
    "14",
    "16",
    "20",
    "27",
    "28",
    "29",
    "30",
    "33",
    "ZZ",
}


def _check_profile(*, code: str, name: str, gln: str, x12_version: str) -> None:
    """Lengths the tables hold, a GLN with its check digit, a GS08 version without
    delimiters: refused here rather than cut or crashing the database."""
    problems = []
    for model, field, value in (
        (Party, "code", code),
        (Party, "name", name),
        (TradingPartner, "x12_version", x12_version),
    ):
        try:
            text_for(model, field, value)
        except ValueError as exc:
            problems.append(f"{field}: {exc}")
    if not code.strip():
        problems.append("code: is empty")
    if not name.strip():
        problems.append("name: is empty")
    if gln:
        if not (gln.isascii() and gln.isdigit() and len(gln) == 13):
            problems.append(f"GLN {gln!r} is not 13 digits")
        else:
            try:
                gtin14(gln)  # a GLN carries the same GS1 check digit
            except ValueError as exc:
                problems.append(f"GLN {exc}")
    version_problem = x12_text_problem(x12_version, what="X12 version")
    if version_problem:
        problems.append(version_problem)
    if problems:
        raise ApplicationError("; ".join(problems), code="bad_partner")


def partner_add(
    *,
    code: str,
    name: str,
    isa: str,
    gs_id: str = "",
    role: str = Party.Role.BUYER,
    auto_register: bool = False,
    x12_version: str = "004010",
    ack_type: str = TradingPartner.AckType.FA997,
    cadence: str = TradingPartner.Cadence.WEEKLY,
    gln: str = "",
    with_token: bool = True,
) -> tuple[TradingPartner, str | None]:
    """Register a party and its X12 profile, and (for API access) a user with a token.

    ``isa`` is ``QUALIFIER:ID`` as in ISA05/ISA06. Returns the partner and its API token.
    """
    qualifier, _, isa_id = isa.partition(":")
    qualifier, isa_id = qualifier.strip(), isa_id.strip()
    if not qualifier or not isa_id:
        raise ApplicationError(
            f"--isa must be QUALIFIER:ID (e.g. ZZ:ACMEBUYER), not {isa!r}", code="bad_isa"
        )
    if qualifier not in ISA_QUALIFIERS:
        raise ApplicationError(
            f"ISA qualifier {qualifier!r} is not one of {', '.join(sorted(ISA_QUALIFIERS))}",
            code="bad_isa",
        )
    gs_id = gs_id.strip()
    for what, value in (("ISA id", isa_id), ("GS id", gs_id)):
        problem = isa_id_problem(value, what=what) if value or what == "ISA id" else None
        if problem:
            raise ApplicationError(problem, code="bad_isa")
    if role not in Party.Role.values:
        raise ApplicationError(
            f"role must be one of {', '.join(Party.Role.values)}", code="bad_role"
        )
    _check_profile(code=code, name=name, gln=gln, x12_version=x12_version)
    with transaction.atomic():
        taken = (
            TradingPartner.objects.filter(isa_qualifier=qualifier, isa_id=isa_id)
            .exclude(party__code=code)
            .first()
        )
        if taken is not None:
            raise ApplicationError(
                f"ISA id {qualifier}:{isa_id} already belongs to partner {taken.code}",
                code="isa_taken",
            )
        party, _ = Party.objects.update_or_create(
            code=code, defaults={"name": name, "role": role, "gln": gln}
        )
        partner, _ = TradingPartner.objects.update_or_create(
            party=party,
            defaults={
                "isa_qualifier": qualifier,
                "isa_id": isa_id,
                "gs_id": gs_id or isa_id,
                "auto_register": auto_register,
                "x12_version": x12_version,
                "ack_type": ack_type,
                "cadence": cadence,
            },
        )
        token = None
        if with_token:
            if partner.api_user is None:
                user, _ = get_user_model().objects.get_or_create(username=f"partner-{code}")
                user.set_unusable_password()
                user.save()
                partner.api_user = user
                partner.save(update_fields=["api_user"])
            token = Token.objects.get_or_create(user=partner.api_user)[0].key
            if party.is_supplier:
                # The supplier's ERP reports shipments through the API: it ships.
                from smi_core.services.audit import Actor
                from smi_core.services.roles import user_roles_set

                user_roles_set(
                    user=partner.api_user, roles=["shipper"], actor=Actor.system("partner_add")
                )
        if party.is_supplier and not partner.webhook_secret:
            partner.webhook_secret = secrets.token_hex(32)
            partner.save(update_fields=["webhook_secret"])
    return partner, token
