"""Writes of the offset registry: methodologies and projects (a regulator), issuance (maker-checker:
one regulator proposes, another approves and issues), and voluntary cancellation with a certificate
(any holder). Every write is audited in its transaction; value moves only through registry.services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organization
from accounts.provinces import PROVINCE_CHOICES
from accounts.selectors import user_organization_ids
from core.audit import audit_record
from core.errors import AlreadyExists, DomainError, IdempotencyConflict, InvalidInput, NotEligible, PermissionDenied
from core.locks import NAMESPACE, LockKey, advisory_xact_lock
from offsets.errors import ISSUANCE_SAME_REGULATOR, IssuanceNotInState, SameRegulator
from offsets.models import Certificate, Issuance, Methodology, Project
from offsets.serials import serial_plan
from registry.models import Account, Asset
from registry.services import allowances_cancel, allowances_issue_and_allocate, balances_lock, system_account

# Held for its transaction by whoever draws serial numbers / certificate numbers (one at a time).
SERIAL_NUMBERING = LockKey(NAMESPACE, 0x0FF1)
CERTIFICATE_NUMBERING = LockKey(NAMESPACE, 0x0FF2)
MAX_QUANTITY = 10**12  # a trillion tonnes: keeps serial numbers inside BIGINT for ever


def _require(actor: Any, permission: str) -> None:
    if not (getattr(actor, "pk", None) and actor.is_active and actor.has_perm(permission)):
        raise PermissionDenied()


def _text(value: Any, field: str, *, max_length: int, required: bool = True) -> str:
    text = (value or "").strip() if isinstance(value, str | type(None)) else str(value).strip()
    if required and not text:
        raise InvalidInput(_("This field is required."), field=field)
    if len(text) > max_length:
        raise InvalidInput(_("At most %(max)s characters.") % {"max": max_length}, field=field)
    return text


def _quantity(value: Any, field: str = "quantity") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidInput(_("The quantity must be a positive whole number of tonnes."), field=field)
    if value > MAX_QUANTITY:
        raise InvalidInput(_("The quantity must be at most %(max)s t.") % {"max": f"{MAX_QUANTITY:,}"}, field=field)
    return value


def _dates_in_order(start: dt.date, end: dt.date, field: str) -> None:
    if start > end:
        raise InvalidInput(_("The period ends before it starts."), field=field)


# --- methodologies and projects ---


def methodology_create(*, code: str, name: str, sector: str, actor: Any) -> Methodology:
    _require(actor, "offsets.add_methodology")
    code = _text(code, "code", max_length=32).upper()
    name, sector = _text(name, "name", max_length=200), _text(sector, "sector", max_length=100)
    with transaction.atomic():
        if Methodology.objects.filter(code=code).exists():
            raise AlreadyExists(_("Methodology %(code)s already exists.") % {"code": code}, field="code")
        methodology = Methodology.objects.create(code=code, name=name, sector=sector)
        audit_record(actor=actor, action="offsets.methodology_create", obj=methodology,
                     after={"code": code, "name": name, "sector": sector})
    return methodology


def methodology_set_status(*, methodology: Methodology, status: str, actor: Any) -> Methodology:
    _require(actor, "offsets.change_methodology")
    if status not in Methodology.Status.values:
        raise InvalidInput(_("Unknown status %(status)s.") % {"status": repr(status)}, field="status")
    with transaction.atomic():
        before = methodology.status
        Methodology.objects.filter(pk=methodology.pk).update(status=status)
        audit_record(actor=actor, action="offsets.methodology_status", obj=methodology, before={"status": before}, after={"status": status})
    methodology.status = status
    return methodology


def project_register(
    *, identifier: str, name: str, owner: Organization, province: str, methodology: Methodology,
    crediting_start: dt.date, crediting_end: dt.date, registration_date: dt.date, actor: Any,
) -> Project:
    """Records a registered project (its validation happens outside the platform)."""
    _require(actor, "offsets.add_project")
    identifier = _text(identifier, "identifier", max_length=40).upper()
    name = _text(name, "name", max_length=200)
    if province not in dict(PROVINCE_CHOICES):
        raise InvalidInput(_("Unknown province %(province)s.") % {"province": repr(province)}, field="province")
    if owner.kind == Organization.Kind.SYSTEM:
        raise InvalidInput(_("A system organization cannot own a project."), field="owner")
    if methodology.status != Methodology.Status.ACTIVE:
        raise InvalidInput(_("Methodology %(code)s is withdrawn.") % {"code": methodology.code}, field="methodology")
    _dates_in_order(crediting_start, crediting_end, "crediting_end")
    with transaction.atomic():
        if Project.objects.filter(identifier=identifier).exists():
            raise AlreadyExists(_("Project %(identifier)s already exists.") % {"identifier": identifier}, field="identifier")
        project = Project.objects.create(
            identifier=identifier, name=name, owner=owner, province=province, methodology=methodology,
            crediting_start=crediting_start, crediting_end=crediting_end, registration_date=registration_date,
        )
        audit_record(actor=actor, action="offsets.project_register", obj=project, after={
            "identifier": identifier, "owner": owner.uscc, "methodology": methodology.code,
            "registration_date": registration_date.isoformat(),
            "crediting": [crediting_start.isoformat(), crediting_end.isoformat()],
        })
    return project


def project_set_status(*, project: Project, status: str, actor: Any) -> Project:
    """Suspends, closes or re-registers a project: only a registered project's credits are issued."""
    _require(actor, "offsets.change_project")
    if status not in Project.Status.values:
        raise InvalidInput(_("Unknown status %(status)s.") % {"status": repr(status)}, field="status")
    with transaction.atomic():
        before = Project.objects.select_for_update(no_key=True).values_list("status", flat=True).get(pk=project.pk)
        Project.objects.filter(pk=project.pk).update(status=status)
        audit_record(actor=actor, action="offsets.project_status", obj=project, before={"status": before}, after={"status": status})
    project.status = status
    return project


# --- issuance (maker-checker) ---


def _offset_asset() -> Asset:
    asset = Asset.objects.filter(kind=Asset.Kind.OFFSET).order_by("pk").first()
    if asset is None:
        raise InvalidInput(_("The registry has no offset asset."), field="asset")
    return asset


def issuance_propose(
    *, project: Project, vintage: int, monitoring_start: dt.date, monitoring_end: dt.date, quantity: Any,
    actor: Any, reason: str = "",
) -> Issuance:
    """The maker: credits of a project for a monitoring period, to be approved by another regulator."""
    _require(actor, "offsets.add_issuance")
    quantity = _quantity(quantity)
    _dates_in_order(monitoring_start, monitoring_end, "monitoring_end")
    if project.status != Project.Status.REGISTERED:
        raise InvalidInput(_("Project %(project)s is not registered.") % {"project": project.identifier}, field="project")
    if not (project.crediting_start <= monitoring_start and monitoring_end <= project.crediting_end):
        raise InvalidInput(_("The monitoring period must lie inside the project's crediting period (%(start)s to %(end)s).")
                           % {"start": project.crediting_start, "end": project.crediting_end}, field="monitoring_start")
    if isinstance(vintage, bool) or not isinstance(vintage, int) or not monitoring_start.year <= vintage <= monitoring_end.year:
        raise InvalidInput(_("The vintage must be a year of the monitoring period."), field="vintage")
    reason = _text(reason, "reason", max_length=500, required=False)
    with transaction.atomic():
        issuance = Issuance.objects.create(
            project=project, asset=_offset_asset(), vintage=vintage, monitoring_start=monitoring_start,
            monitoring_end=monitoring_end, quantity=quantity, proposed_by=actor, reason=reason,
        )
        audit_record(actor=actor, action="offsets.issuance_propose", obj=issuance, after={
            "project": project.identifier, "vintage": vintage, "quantity": quantity, "reason": reason,
            "monitoring": [monitoring_start.isoformat(), monitoring_end.isoformat()],
        })
    return issuance


def _decide(issuance: Issuance, actor: Any, **changes: Any) -> None:
    """A conditional update only one checker wins; the row itself must name someone else as maker."""
    if actor.pk == issuance.proposed_by_id:
        raise SameRegulator(ISSUANCE_SAME_REGULATOR)
    rows = Issuance.objects.filter(pk=issuance.pk, status=Issuance.Status.PROPOSED).exclude(proposed_by=actor)
    if rows.update(decided_by=actor, decided_at=timezone.now(), **changes) != 1:
        raise IssuanceNotInState(_("Issuance %(issuance)s is not awaiting approval.") % {"issuance": issuance.pk})


def issuance_approve(*, issuance: Issuance, actor: Any, reason: str = "") -> Issuance:
    """The checker: draws the next free serial numbers, issues the credits into the owner's holding
    account (issuance and allocation in one posting) and creates their serial block."""
    _require(actor, "offsets.approve_issuance")
    _require(actor, "registry.issue_allowances")
    reason = _text(reason, "reason", max_length=500, required=False)
    if issuance.project.status != Project.Status.REGISTERED:
        raise InvalidInput(_("Project %(project)s is not registered.") % {"project": issuance.project.identifier}, field="project")
    holding = Account.objects.filter(organization_id=issuance.project.owner_id, kind=Account.Kind.HOLDING).first()
    if holding is None:
        raise InvalidInput(_("%(name)s has no registry holding account.") % {"name": issuance.project.owner.name}, field="project")
    with transaction.atomic():
        advisory_xact_lock(SERIAL_NUMBERING)  # serial numbers are drawn one issuance at a time
        first = (Issuance.objects.aggregate(last=Max("last_serial"))["last"] or 0) + 1
        _decide(issuance, actor, status=Issuance.Status.ISSUED, first_serial=first, last_serial=first + issuance.quantity - 1,
                decision_reason=reason)
        issuance.refresh_from_db()
        with serial_plan(issuance=issuance, ranges=[(issuance.first_serial, issuance.last_serial)]):
            allowances_issue_and_allocate(
                asset=issuance.asset, allocations=[(holding, issuance.quantity)], actor=actor,
                reference=f"offset-issuance:{issuance.pk}", memo=f"{issuance.project.identifier} {issuance.vintage}",
                audited_by_caller=True,
            )
        audit_record(actor=actor, action="offsets.issuance_approve", obj=issuance, before={"status": Issuance.Status.PROPOSED},
                     after={"status": Issuance.Status.ISSUED, "serials": [issuance.first_serial, issuance.last_serial],
                            "holding": holding.number, "reason": reason})
    return issuance


def issuance_reject(*, issuance: Issuance, actor: Any, reason: str) -> Issuance:
    _require(actor, "offsets.approve_issuance")
    reason = _text(reason, "reason", max_length=500)
    with transaction.atomic():
        _decide(issuance, actor, status=Issuance.Status.REJECTED, decision_reason=reason)
        audit_record(actor=actor, action="offsets.issuance_reject", obj=issuance, before={"status": Issuance.Status.PROPOSED},
                     after={"status": Issuance.Status.REJECTED, "reason": reason})
    issuance.refresh_from_db()
    return issuance


# --- voluntary cancellation ---


def holder_unit(user: Any) -> Organization:
    """The one organization a company user cancels for, if the role allows it."""
    if not (getattr(user, "pk", None) and user.is_active and user.has_perm("offsets.cancel_units")):
        raise NotEligible(_("Your role cannot cancel units."))
    organization_ids = user_organization_ids(user)
    if len(organization_ids) != 1:
        raise NotEligible(_("You must belong to exactly one organization to cancel units."))
    return Organization.objects.get(pk=next(iter(organization_ids)))


def parse_ranges(value: Any) -> list[tuple[int, int]] | None:
    """Serial ranges as given by a holder: None (oldest first), or [[first, last], ...]."""
    if value in (None, "", []):
        return None
    if not isinstance(value, list | tuple):
        raise InvalidInput(_("Give serial ranges as a list of [first, last] pairs."), field="blocks")
    ranges = []
    for item in value:
        if (not isinstance(item, list | tuple) or len(item) != 2
                or any(isinstance(n, bool) or not isinstance(n, int) or n <= 0 for n in item) or item[0] > item[1]):
            raise InvalidInput(_("Each serial range is [first, last], two positive whole numbers in order."), field="blocks")
        ranges.append((item[0], item[1]))
    return ranges


def _certificate_number(year: int) -> str:
    """The next number of the year: PREFIX-YYYY-NNNNNN (the caller holds the asset lock of the numbering)."""
    prefix = f"{settings.OFFSETS_CERTIFICATE_PREFIX}-{year}-"
    last = Certificate.objects.filter(number__startswith=prefix).aggregate(last=Max("number"))["last"]
    return f"{prefix}{(int(last.removeprefix(prefix)) if last else 0) + 1:06d}"


def cancellation_create(
    *, user: Any, asset: Asset | str, quantity: Any, purpose: str, beneficiary: str = "",
    blocks: Any = None, client_request_id: str,
) -> tuple[Certificate, bool]:
    """Cancels units of the user's organization for good (Available -> the cancellation account) and
    numbers a certificate. CCER leave as whole serial ranges: those chosen (`blocks`), else the oldest
    first. The same client_request_id returns the first certificate (False: not created now)."""
    organization = holder_unit(user)
    if isinstance(asset, str):
        found = Asset.objects.filter(code=asset.strip().upper()).first()
        if found is None:
            raise InvalidInput(_("No asset %(asset)s.") % {"asset": repr(asset)}, field="asset")
        asset = found
    if asset.kind == Asset.Kind.CASH:
        raise InvalidInput(_("Cash cannot be cancelled."), field="asset")
    quantity = _quantity(quantity)
    purpose = _text(purpose, "purpose", max_length=500)
    beneficiary = _text(beneficiary, "beneficiary", max_length=200, required=False)
    client_request_id = _text(client_request_id, "client_request_id", max_length=64)
    ranges = parse_ranges(blocks)
    if ranges is not None and asset.kind != Asset.Kind.OFFSET:
        raise InvalidInput(_("Only offsets have serial numbers."), field="blocks")
    request = (asset.pk, quantity, purpose, beneficiary)
    existing = Certificate.objects.filter(organization=organization, client_request_id=client_request_id).first()
    if existing is not None:
        if (existing.asset_id, existing.quantity, existing.purpose, existing.beneficiary) != request:
            raise IdempotencyConflict(_("This client_request_id was used for a different cancellation."), field="client_request_id")
        return existing, False
    holding = Account.objects.filter(organization=organization, kind=Account.Kind.HOLDING).first()
    if holding is None:
        raise NotEligible(_("%(name)s has no registry holding account.") % {"name": organization.name})
    try:
        with transaction.atomic():
            # The balances the posting will lock (the holding's and the cancellation account's, in the
            # registry's order), then the numbering's: always in this order.
            cancellation = system_account(Account.Kind.CANCELLATION)
            balances_lock([(holding.pk, asset.pk), (cancellation.pk, asset.pk)])
            advisory_xact_lock(CERTIFICATE_NUMBERING)
            with serial_plan(ranges=ranges):
                transfer = allowances_cancel(account=holding, asset=asset, amount=quantity, actor=user,
                                             reference=f"cancellation:{client_request_id}"[:64], memo=purpose[:500],
                                             audited_by_caller=True)
            certificate = Certificate.objects.create(
                number=_certificate_number(timezone.localdate().year), organization=organization, asset=asset,
                quantity=quantity, purpose=purpose, beneficiary=beneficiary, transfer=transfer,
                client_request_id=client_request_id, created_by=user,
            )
            audit_record(actor=user, action="offsets.cancellation", obj=certificate, after={
                "number": certificate.number, "asset": asset.code, "quantity": quantity, "purpose": purpose,
                "transfer": transfer.pk, "ranges": ranges,
            })
    except (IntegrityError, DomainError):
        # A racing request with the same client_request_id won: answer with its certificate.
        existing = Certificate.objects.filter(organization=organization, client_request_id=client_request_id).first()
        if existing is None:
            raise
        if (existing.asset_id, existing.quantity, existing.purpose, existing.beneficiary) != request:
            raise IdempotencyConflict(_("This client_request_id was used for a different cancellation."), field="client_request_id") from None
        return existing, False
    return certificate, True
