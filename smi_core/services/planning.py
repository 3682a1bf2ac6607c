"""Replenishment planning: forecast each item-location's demand, compute its safety stock,
reorder point and order-up-to level under the agreement in force, and propose what to send.

Set-based: the facts are read with one query per kind (positions, demand, pending
proposals, terms), the maths runs in memory, and the results are written in bulk.

Inventory position = on hand (never below zero) + on order + in transit - committed +
quantities already proposed, approved or ordered and not yet shipped: counting pending
proposals is what makes a second run propose nothing twice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from types import SimpleNamespace

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from smi_core.models import (
    ExceptionItem,
    PlanRun,
    ProposalLine,
    ReplenishmentProposal,
    SeriesForecast,
    SupplierCapacity,
    SupplyAgreement,
)
from smi_core.planning.forecasting_batch import forecast_many
from smi_core.planning.policy import order_up_to, reorder_point, round_order, safety_stock, z_for
from smi_core.selectors import decimal_text
from smi_core.selectors.planning import (
    Key,
    agreements_in_force,
    pending_quantities,
    positions_in_scope,
    terms_for,
    weekly_demand,
)
from smi_core.services.bulk import insert, upsert
from smi_core.services.exceptions import ExceptionSpec, exceptions_raise_many
from smi_core.templatetags.smi_format import decimal as fixed
from smi_core.templatetags.smi_format import quantity

log = logging.getLogger(__name__)
WEEK = Decimal(7)
Q4 = Decimal("0.0001")
STALE_GRACE_DAYS = {"weekly": 3, "daily": 1}
CADENCE_DAYS = {"weekly": 7, "daily": 1}


@dataclass
class PlannedLine:
    key: Key
    agreement: SupplyAgreement
    buyer_id: int
    supplier_id: int
    quantity: Decimal
    raw: Decimal
    unit_cost: Decimal
    pack: Decimal
    capacity_key: tuple | None
    explanation: dict


@dataclass
class PlanResult:
    run: PlanRun
    proposals: list[ReplenishmentProposal] = field(default_factory=list)
    exceptions: list[ExceptionSpec] = field(default_factory=list)


def plan_replenishment(
    *,
    as_of: date,
    actor: str,
    trigger: str = PlanRun.Trigger.MANUAL,
    partner_code: str | None = None,
    item_locations: set[Key] | None = None,
    user=None,
    progress: Callable[..., None] | None = None,
) -> PlanResult:
    """Plan every item-location under an agreement in force (or only ``item_locations``).

    ``progress(done, total, stage)``, when given, is told how many item-locations of how
    many are planned (forecast and policy), then ``stage="saving"`` while the results are
    written: a progress bar's figures (the command line's)."""
    agreements = agreements_in_force(as_of=as_of, partner_code=partner_code)
    positions = positions_in_scope(set(agreements), item_locations)
    keys = {(p["item_id"], p["location_id"]) for p in positions}
    total = len(positions)
    if progress is not None:
        progress(0, total, "reading demand")
    demand = weekly_demand(keys, as_of=as_of)
    pending = pending_quantities(keys)
    shipped = _shipped_not_received(keys)
    terms = terms_for({a.pk for a in agreements.values()})
    versions = {a.pk: a.version for a in agreements.values()}
    mase_limit = Decimal(str(getattr(settings, "SMI_FORECAST_MASE_THRESHOLD", "1.5")))

    run = PlanRun.objects.create(
        as_of=as_of,
        trigger=trigger,
        actor=actor[:100],
        item_locations=len(keys),
        scope={
            "partner": partner_code,
            "item_locations": len(item_locations) if item_locations is not None else None,
        },
    )
    forecasts: list[tuple] = []
    lines: list[PlannedLine] = []
    problems: list[ExceptionSpec] = []
    if progress is not None:
        progress(0, total, "forecasting")
    for position, fc in _forecasts_in_chunks(positions, demand, total, progress):
        key = (position["item_id"], position["location_id"])
        agreement = agreements[(position["item__supplier_id"], position["location__party_id"])]
        term = terms.get((agreement.pk, key[0], key[1])) or terms.get((agreement.pk, key[0], None))
        forecasts.append(_forecast_row(key, fc, as_of, run))
        if key in shipped:
            position = _with_our_shipments(position, shipped[key])
        line, found = _plan_one(
            position,
            agreement,
            term,
            fc,
            pending.get(key, Decimal(0)),
            as_of,
            versions[agreement.pk],
            mase_limit,
        )
        problems.extend(found)
        if line is not None:
            lines.append(line)

    problems.extend(_apply_capacity(lines))
    if progress is not None:
        progress(total, total, "saving")
    with transaction.atomic():
        _save_forecasts(forecasts)
        proposals = _save_proposals(lines, run=run, as_of=as_of, actor=actor, user=user)
        exceptions = exceptions_raise_many(problems)
        _clear_resolved_conditions(keys, problems, run=run)
        run.proposals = len(proposals)
        run.lines = sum(1 for line in lines if line.quantity > 0)
        run.exceptions = len(problems)
        run.finished_at = timezone.now()
        run.save(update_fields=["proposals", "lines", "exceptions", "finished_at"])
    log.info(
        "plan #%s: %d item-locations, %d proposals, %d exceptions",
        run.pk,
        len(keys),
        len(proposals),
        len(problems),
    )
    return PlanResult(run=run, proposals=proposals, exceptions=exceptions)


PROGRESS_CHUNK = 2000  # item-locations forecast at once between two progress reports


def _forecasts_in_chunks(positions, demand, total: int, progress):
    """(position, forecast) pairs, forecast a chunk at a time (numpy per chunk, the same
    figures as all at once); ``progress`` hears after each chunk is through."""
    for start in range(0, total, PROGRESS_CHUNK):
        chunk = positions[start : start + PROGRESS_CHUNK]
        forecasts = forecast_many([demand.get((p["item_id"], p["location_id"]), []) for p in chunk])
        yield from zip(chunk, forecasts, strict=True)
        if progress is not None:
            progress(start + len(chunk), total, "planning")


PLANNING_KINDS = (
    ExceptionItem.Kind.STALE_DATA,
    ExceptionItem.Kind.FORECAST_ERROR,
    ExceptionItem.Kind.PROJECTED_STOCKOUT,
    ExceptionItem.Kind.EXCESS_STOCK,
    ExceptionItem.Kind.ITEM_WITHOUT_COST,
)

# What planning uses for an item the agreement has no term for: the agreement's lead time,
# no min/max, MOQ or pack beyond the item's, and no cost (the line is priced 0 until the
# term is added and the item re-planned).
NO_TERM = SimpleNamespace(
    pk=None,
    unit_cost=Decimal(0),
    lead_time_days=None,
    min_quantity=None,
    min_days=None,
    max_quantity=None,
    max_days=None,
    pack_multiple=None,
    moq=None,
)


def _subject(key: Key) -> str:
    return f"item {key[0]} at location {key[1]}"


def _clear_resolved_conditions(keys: set[Key], raised: list[ExceptionSpec], *, run: PlanRun) -> int:
    """Open planning exceptions of the item-locations just planned whose condition no longer
    holds (fresh data came, stock was replenished) are resolved by the plan."""
    still = {(spec.kind, spec.subject) for spec in raised}
    subjects = {_subject(key) for key in keys}
    open_ones = ExceptionItem.objects.filter(
        kind__in=PLANNING_KINDS, status=ExceptionItem.Status.OPEN
    ).values_list("pk", "kind", "subject")
    ids = sorted(
        pk
        for pk, kind, subject in open_ones
        if subject in subjects and (kind, subject) not in still
    )
    cleared = 0
    for start in range(0, len(ids), 900):
        cleared += ExceptionItem.objects.filter(pk__in=ids[start : start + 900]).update(
            status=ExceptionItem.Status.RESOLVED,
            resolved_at=timezone.now(),
            resolution_note=f"condition no longer holds in plan #{run.pk}",
        )
    return cleared


def _d(value: float) -> Decimal:
    """A float as a Decimal of four places (formatting rounds the binary value half-even)."""
    return Decimal(f"{value:.4f}")


def _forecast_row(key: Key, fc, as_of: date, run: PlanRun) -> tuple:
    optional = (_d(v) if v is not None else None for v in (fc.adi, fc.cv2, fc.mase))
    return (
        key[0],
        key[1],
        fc.method,
        fc.classification,
        _d(fc.level),
        _d(fc.sigma),
        *optional,
        fc.observations,
        as_of,
        run.pk,
    )


def _plan_one(
    position,
    agreement: SupplyAgreement,
    term,
    fc,
    pending: Decimal,
    as_of: date,
    version,
    mase_limit,
):
    """The line for one item-location (or None), and the exceptions it raises."""
    key = (position["item_id"], position["location_id"])
    problems: list[ExceptionSpec] = []
    subject = _subject(key)
    link = {"item_id": key[0], "location_id": key[1]}
    buyer_id = position["location__party_id"]

    stale_after = CADENCE_DAYS[agreement.cadence] + STALE_GRACE_DAYS[agreement.cadence]
    if (as_of - position["as_of"]).days > stale_after:
        problems.append(
            ExceptionSpec(
                kind=ExceptionItem.Kind.STALE_DATA,
                partner_id=buyer_id,
                subject=subject,
                links=link,
                message=f"The last 852 for this item-location is as of {position['as_of']}, more than {stale_after} days before {as_of} (cadence {agreement.cadence}).",
                action="Ask the buyer for its missing product activity reports; plans use the old figures until then.",
            )
        )
    if fc.mase is not None and _d(fc.mase) > mase_limit:
        problems.append(
            ExceptionSpec(
                kind=ExceptionItem.Kind.FORECAST_ERROR,
                partner_id=buyer_id,
                subject=subject,
                links=link,
                message=f"The {fc.method} forecast's error (MASE {fixed(_d(fc.mase), 2)}) is above {fixed(mase_limit, 2)}.",
                action="Review the demand history for promotions or one-off orders; adjust the agreed min/max if needed.",
                details={"mase": str(_d(fc.mase)), "method": fc.method},
            )
        )
    if term is None:
        problems.append(
            ExceptionSpec(
                kind=ExceptionItem.Kind.ITEM_WITHOUT_COST,
                partner_id=buyer_id,
                subject=subject,
                links=link,
                message=f"Agreement {agreement.code} has no cost for this item: it is planned with the agreement's lead time and no min/max, and its proposal line is priced 0.00; finance leaves it out of values and COGS.",
                action="Add the item's unit cost (and min/max if agreed) to the agreement's terms, then re-plan the proposal.",
                details={"agreement": agreement.code},
            )
        )
        term = NO_TERM

    d = _d(fc.level)
    sigma = _d(fc.sigma)
    lead_days = term.lead_time_days if term.lead_time_days is not None else agreement.lead_time_days
    lead = (lead_days / WEEK).quantize(Q4)
    sigma_lead = (agreement.lead_time_sigma_days / WEEK).quantize(Q4)
    review = (Decimal(agreement.review_period_days) / WEEK).quantize(Q4)
    level = agreement.service_level
    ss = safety_stock(
        demand=d,
        sigma_demand=sigma,
        lead_time=lead,
        service_level=level,
        sigma_lead_time=sigma_lead,
    )
    rop = reorder_point(demand=d, lead_time=lead, safety=ss)
    target = order_up_to(
        demand=d,
        sigma_demand=sigma,
        lead_time=lead,
        review_period=review,
        service_level=level,
        sigma_lead_time=sigma_lead,
    )
    on_hand = max(position["on_hand"], Decimal(0))
    ip = on_hand + position["on_order"] + position["in_transit"] - position["committed"] + pending
    daily = d / WEEK
    minimum = (
        term.min_quantity
        if term.min_quantity is not None
        else (term.min_days * daily if term.min_days is not None else None)
    )
    maximum = (
        term.max_quantity
        if term.max_quantity is not None
        else (term.max_days * daily if term.max_days is not None else None)
    )
    pack = term.pack_multiple or position["item__pack_size"] or Decimal(1)  # whole units at least

    if on_hand + position["in_transit"] < d * lead:
        problems.append(
            ExceptionSpec(
                kind=ExceptionItem.Kind.PROJECTED_STOCKOUT,
                partner_id=buyer_id,
                subject=subject,
                links=link,
                message=f"{quantity(on_hand + position['in_transit'])} on hand and in transit will not cover {quantity((d * lead).quantize(Decimal('0.01')))} of demand before a new delivery can arrive ({quantity(lead_days)} days).",
                action="Expedite what is on order or ship from stock now; check the proposal for this location.",
                details={
                    "available": str(on_hand + position["in_transit"]),
                    "demand_over_lead_time": str((d * lead).quantize(Q4)),
                },
            )
        )
    if maximum is not None and ip > maximum:
        problems.append(
            ExceptionSpec(
                kind=ExceptionItem.Kind.EXCESS_STOCK,
                partner_id=buyer_id,
                subject=subject,
                links=link,
                message=f"The inventory position {quantity(ip)} is above the agreed maximum {quantity(maximum.quantize(Decimal('0.01')))}.",
                action="Hold replenishment; consider moving stock to another location or agreeing a return.",
                details={"inventory_position": str(ip), "maximum": str(maximum.quantize(Q4))},
            )
        )

    needs_order = ip <= rop or (minimum is not None and ip < minimum)
    raw = (target - ip) if needs_order else Decimal(0)
    rounding = round_order(
        raw, position=ip, minimum=minimum, maximum=maximum, moq=term.moq, pack=pack
    )
    if rounding.quantity <= 0:
        return None, problems  # nothing to order: no line, so no explanation to build
    explanation = {
        "demand_per_week": str(d),
        "sigma_per_week": str(sigma),
        "forecast_method": fc.method,
        "classification": fc.classification,
        "observations": fc.observations,
        "service_level": str(level),
        "z": str(_d(z_for(level))),
        "lead_time_weeks": str(lead),
        "lead_time_sigma_weeks": str(sigma_lead),
        "review_period_weeks": str(review),
        "safety_stock": str(ss),
        "reorder_point": str(rop),
        "order_up_to": str(target),
        "inventory_position": str(ip),
        "on_hand": str(on_hand),
        "on_order": str(position["on_order"]),
        "in_transit": str(position["in_transit"]),
        "in_transit_852": str(position.get("in_transit_852", position["in_transit"])),
        "in_transit_shipped": str(position.get("in_transit_shipped", Decimal(0))),
        "committed": str(position["committed"]),
        "pending": str(pending),
        "minimum": str(minimum.quantize(Q4)) if minimum is not None else None,
        "maximum": str(maximum.quantize(Q4)) if maximum is not None else None,
        "moq": str(term.moq) if term.moq is not None else None,
        "pack_multiple": str(pack),
        "raw_quantity": str(raw.quantize(Q4)),
        "rounded_quantity": str(rounding.quantity),
        "rounding": list(rounding.steps),
        "agreement": agreement.code,
        "agreement_version": version,
        "term_id": term.pk,
        "unit_cost_missing": term is NO_TERM,
        "positions_as_of": str(position["as_of"]),
    }
    group = position["item__group"]
    return PlannedLine(
        key=key,
        agreement=agreement,
        buyer_id=buyer_id,
        supplier_id=position["item__supplier_id"],
        quantity=rounding.quantity,
        raw=raw.quantize(Q4),
        unit_cost=term.unit_cost,
        pack=pack,
        capacity_key=(position["item__supplier_id"], key[0], group),
        explanation=explanation,
    ), problems


def _apply_capacity(lines: list[PlannedLine]) -> list[ExceptionSpec]:
    """Weekly supplier capacity, per item (else per item group). When the lines for one
    capacity exceed it, each gets a share proportional to its quantity, rounded down to
    whole packs, and the shortfall is flagged."""
    if not lines:
        return []
    supplier_ids = {line.supplier_id for line in lines}
    by_item, by_group = {}, {}
    for cap in SupplierCapacity.objects.filter(supplier_id__in=supplier_ids):
        if cap.item_id:
            by_item[(cap.supplier_id, cap.item_id)] = cap
        else:
            by_group[(cap.supplier_id, cap.item_group)] = cap
    groups: dict[int, list[PlannedLine]] = defaultdict(list)
    caps = {}
    for line in lines:
        supplier_id, item_id, group = line.capacity_key
        cap = by_item.get((supplier_id, item_id)) or (
            by_group.get((supplier_id, group)) if group else None
        )
        if cap is not None:
            groups[cap.pk].append(line)
            caps[cap.pk] = cap
    problems = []
    for cap_id, members in groups.items():
        cap = caps[cap_id]
        wanted = sum(line.quantity for line in members)
        if wanted <= cap.units_per_week:
            continue
        share = cap.units_per_week / wanted
        for line in members:
            allowed = ((line.quantity * share) / line.pack).to_integral_value(
                rounding=ROUND_DOWN
            ) * line.pack
            line.explanation["capacity"] = {
                "units_per_week": str(cap.units_per_week),
                "requested": str(wanted),
                "share": str(share.quantize(Q4)),
                "cut_from": str(line.quantity),
                "cut_to": str(allowed),
                "rule": "proportional to the quantity asked, rounded down to whole packs",
            }
            line.quantity = allowed
        given = sum(line.quantity for line in members)
        problems.append(
            ExceptionSpec(
                kind=ExceptionItem.Kind.CAPACITY_SHORTFALL,
                partner_id=cap.supplier_id,
                subject=f"capacity {cap.item.vendor_item if cap.item_id else cap.item_group}",
                message=f"Planning asked for {quantity(wanted)} units against a weekly capacity of {quantity(cap.units_per_week)}; {quantity(given)} were allocated, {quantity(wanted - given)} short.",
                action="Agree extra capacity or priorities with the supplier; the cut lines say how much each location lost.",
                details={
                    "requested": decimal_text(wanted),
                    "capacity": decimal_text(cap.units_per_week),
                    "allocated": decimal_text(given),
                },
            )
        )
    return problems


_FORECAST_COLUMNS = (
    "item_id",
    "location_id",
    "method",
    "classification",
    "demand_per_week",
    "sigma_per_week",
    "adi",
    "cv2",
    "mase",
    "observations",
    "as_of",
    "plan_run_id",
)


def _save_forecasts(rows: list[tuple]) -> None:
    upsert(SeriesForecast, _FORECAST_COLUMNS, rows, conflict=("item", "location"))


def _save_proposals(
    lines: list[PlannedLine], *, run: PlanRun, as_of: date, actor: str, user
) -> list[ReplenishmentProposal]:
    grouped: dict[tuple[int, int, int], list[PlannedLine]] = defaultdict(list)
    for line in lines:
        if line.quantity > 0:
            grouped[(line.supplier_id, line.buyer_id, line.key[1])].append(line)
    proposals = [
        ReplenishmentProposal(
            supplier_id=supplier_id,
            buyer_id=buyer_id,
            ship_to_id=location_id,
            agreement=members[0].agreement,
            currency=members[0].agreement.currency,
            as_of=as_of,
            plan_run=run,
            created_by=actor[:100],
            proposed_by=user,
            value=sum((line.quantity * line.unit_cost for line in members), Decimal(0)).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_UP
            ),
        )
        for (supplier_id, buyer_id, location_id), members in grouped.items()
    ]
    ReplenishmentProposal.objects.bulk_create(proposals, batch_size=2000)
    if proposals and proposals[0].pk is None:  # databases that do not return ids from a bulk insert
        created = list(ReplenishmentProposal.objects.filter(plan_run=run).order_by("pk"))
        proposals = created
    columns = (
        "proposal_id",
        "item_id",
        "quantity",
        "proposed_quantity",
        "raw_quantity",
        "unit_cost",
        "explanation",
    )
    rows = [
        (
            proposal.pk,
            line.key[0],
            line.quantity,
            line.quantity,
            line.raw,
            line.unit_cost,
            line.explanation,
        )
        for proposal, members in zip(proposals, grouped.values(), strict=True)
        for line in members
    ]
    insert(ProposalLine, columns, rows)
    return proposals


def planning_after_positions_changed(*, item_location_pairs, source: str) -> None:
    """Queue a plan of the item-locations an 852 changed (registered with the ingestion hook)."""
    if not item_location_pairs:
        return
    from smi_core.tasks import plan_item_locations

    pairs = sorted([int(i), int(loc)] for i, loc in item_location_pairs)
    transaction.on_commit(lambda: plan_item_locations.delay(pairs, source))


def _shipped_not_received(keys: set[Key]) -> dict[Key, Decimal]:
    from smi_core.services.shipments import in_transit_by_item_location

    return {k: v for k, v in in_transit_by_item_location().items() if k in keys}


def _with_our_shipments(position: dict, shipped: Decimal) -> dict:
    """In transit is the larger of what the buyer's 852 reports (QI) and what our 856s
    shipped that the buyer has not yet received: goods on the truck count from the moment
    they ship, before the buyer's next 852 reports them, and are not counted twice once it
    does."""
    reported = position["in_transit"]
    return {
        **position,
        "in_transit": max(reported, shipped),
        "in_transit_852": reported,
        "in_transit_shipped": shipped,
    }


def proposal_replan(*, proposal_id: int, user, actor=None) -> PlanResult:
    """Plan one proposal's item-locations again from the newest data: the proposal is
    cancelled ("re-planned") and planning proposes afresh, in one transaction, so a failed
    plan leaves the proposal as it was. Only a planner re-plans, and only a proposal not yet
    approved (an approved one is edited or cancelled instead)."""
    from django.db.models import Max

    from smi_core.exceptions import ApplicationError
    from smi_core.models import InventoryPosition
    from smi_core.services.audit import Actor
    from smi_core.services.proposals import _require_role, proposal_cancel

    actor = actor or Actor.user(user)
    _require_role(
        user=user,
        roles={"planner"},
        actor=actor,
        action="proposal.replan.denied",
        proposal_id=proposal_id,
        doing="re-plan proposals",
    )
    proposal = ReplenishmentProposal.objects.get(pk=proposal_id)
    if proposal.status != ReplenishmentProposal.Status.PROPOSED:
        raise ApplicationError(
            f"proposal #{proposal.pk} is {proposal.status}; only proposed ones are re-planned",
            code="transition_refused",
        )
    keys = {
        (item_id, proposal.ship_to_id)
        for item_id in proposal.lines.values_list("item_id", flat=True)
    }
    newest = InventoryPosition.objects.filter(
        item_id__in={k[0] for k in keys}, location_id=proposal.ship_to_id
    ).aggregate(newest=Max("as_of"))["newest"]
    as_of = max(proposal.as_of, newest) if newest else proposal.as_of
    with transaction.atomic():
        proposal_cancel(
            proposal_id=proposal.pk,
            user=user,
            reason=f"re-planned as of {as_of} by {user.get_username()}",
            actor=actor,
        )
        return plan_replenishment(
            as_of=as_of,
            actor=f"user:{user.get_username()}",
            item_locations=keys,
            user=user,
        )
