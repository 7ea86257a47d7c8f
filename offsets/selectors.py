"""Reads of the offset registry: eligibility for compliance, what an account holds, a project's
issued / retired / remaining credits, where a serial number is, a certificate's serial ranges."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from core.errors import NotFound
from offsets.models import BlockMovement, Certificate, Issuance, Project, SerialBlock
from registry.models import Account

_SIZE = F("last_serial") - F("first_serial") + 1


def compliance_eligible(surrender_deadline: dt.date) -> Q:
    """A SerialBlock filter: the credits that may be surrendered for a period with this deadline.
    Credits of projects registered before the legacy cut-off count only until the last eligible date."""
    if surrender_deadline <= settings.OFFSETS_LEGACY_LAST_DEADLINE:
        return Q()
    return Q(issuance__project__registration_date__gte=settings.OFFSETS_LEGACY_REGISTRATION_CUTOFF)


def blocks_held(account: Account, *, asset_id: int | None = None, eligible: Q | None = None) -> QuerySet[SerialBlock]:
    """The account's blocks, oldest first (the order movements take them in)."""
    blocks = SerialBlock.objects.filter(account=account).select_related("issuance__project__methodology", "asset")
    if asset_id is not None:
        blocks = blocks.filter(asset_id=asset_id)
    if eligible is not None:
        blocks = blocks.filter(eligible)
    return blocks.order_by("issuance__vintage", "first_serial")


def quantity_held(account: Account, *, asset_id: int, eligible: Q | None = None) -> int:
    blocks = SerialBlock.objects.filter(account=account, asset_id=asset_id)
    if eligible is not None:
        blocks = blocks.filter(eligible)
    return blocks.aggregate(total=Sum(_SIZE))["total"] or 0


@dataclass
class ProjectFigures:
    issued: int
    retired: int  # surrendered for compliance
    cancelled: int  # voluntarily
    remaining: int  # still in circulation


def project_figures(project: Project) -> ProjectFigures:
    issued = Issuance.objects.filter(project=project, status=Issuance.Status.ISSUED).aggregate(total=Sum("quantity"))["total"] or 0
    by_kind = dict(
        SerialBlock.objects.filter(issuance__project=project, account__kind__in=Account.OUT_OF_CIRCULATION_KINDS)
        .values_list("account__kind").annotate(total=Sum(_SIZE)).order_by()
    )
    retired = by_kind.get(Account.Kind.RETIREMENT, 0)
    cancelled = by_kind.get(Account.Kind.CANCELLATION, 0)
    return ProjectFigures(issued=issued, retired=retired, cancelled=cancelled, remaining=issued - retired - cancelled)


def project_get(identifier: str) -> Project:
    project = Project.objects.select_related("methodology", "owner").filter(identifier=identifier).first()
    if project is None:
        raise NotFound(_("No such project."), field="identifier")
    return project


@dataclass
class SerialTrace:
    serial: int
    issuance: Issuance
    holder: SerialBlock
    path: list[BlockMovement]


def serial_trace(serial: int) -> SerialTrace:
    """Where a serial number came from (its issuance), every movement of it, and who holds it now."""
    issuance = (
        Issuance.objects.select_related("project__methodology", "project__owner")
        .filter(status=Issuance.Status.ISSUED, first_serial__lte=serial, last_serial__gte=serial).first()
    )
    block = SerialBlock.objects.select_related("account").filter(first_serial__lte=serial, last_serial__gte=serial).first()
    if issuance is None or block is None:
        raise NotFound(_("No credit has this serial number."), field="serial")
    path = list(
        BlockMovement.objects.select_related("transfer", "source", "destination")
        .filter(first_serial__lte=serial, last_serial__gte=serial).order_by("id")
    )
    return SerialTrace(serial=serial, issuance=issuance, holder=block, path=path)


def certificate_get(number: str) -> Certificate:
    certificate = (
        Certificate.objects.select_related("organization", "asset", "transfer").filter(number=number.strip().upper()).first()
    )
    if certificate is None:
        raise NotFound(_("No such certificate."), field="number")
    return certificate


def certificate_ranges(certificate: Certificate) -> list[BlockMovement]:
    """The serial ranges the cancellation took (CCER only; empty for allowances)."""
    return list(
        BlockMovement.objects.select_related("issuance__project").filter(transfer_id=certificate.transfer_id).order_by("first_serial")
    )


def certificates_of(organization_id: int) -> QuerySet[Certificate]:
    return Certificate.objects.filter(organization_id=organization_id).select_related("asset").order_by("-id")


def projects_of(organization_id: int) -> list[tuple[Project, ProjectFigures]]:
    return [(project, project_figures(project))
            for project in Project.objects.filter(owner_id=organization_id).select_related("methodology")]


def public_projects() -> QuerySet[Project]:
    return Project.objects.select_related("methodology", "owner").order_by("identifier")


def issuances_pending() -> QuerySet[Issuance]:
    return Issuance.objects.filter(status=Issuance.Status.PROPOSED).select_related("project", "proposed_by").order_by("id")

