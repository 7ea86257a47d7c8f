from django.utils.translation import gettext_lazy

from core.errors import DomainError, NotFound
from core.errors import ImportRefused as VerifiedEmissionsRefused  # noqa: F401  (the shared import refusal)


class IneligibleAsset(DomainError):
    code = "ineligible_asset"
    default_message = gettext_lazy("This asset cannot be surrendered for this period.")


class OffsetCapExceeded(DomainError):
    code = "offset_cap_exceeded"
    status = 409
    default_message = gettext_lazy("Offsets may cover only a limited share of the obligation.")


class OverSurrender(DomainError):
    code = "over_surrender"
    status = 409
    default_message = gettext_lazy("This would surrender more than the obligation.")


class NoObligation(DomainError):
    code = "no_verified_emissions"
    status = 409
    default_message = gettext_lazy("There are no verified emissions for this unit and period yet.")


class SeveralUnits(DomainError):
    code = "several_units"
    default_message = gettext_lazy("The company has several units: name the unit the report is for.")


class UnknownUnit(DomainError):
    code = "unknown_unit"
    default_message = gettext_lazy("The company has no such unit.")


class PeriodClosed(DomainError):
    code = "period_closed"
    status = 409
    default_message = gettext_lazy("The period's compliance deadline has been processed.")



# --- emission reports and verification ---


class ReportExists(DomainError):
    code = "report_exists"
    status = 409
    default_message = gettext_lazy("This unit has already filed its emission report for this period.")


class AttachmentTooLarge(DomainError):
    code = "attachment_too_large"
    default_message = gettext_lazy("The attachment is larger than allowed.")


class AttachmentType(DomainError):
    code = "attachment_type"
    default_message = gettext_lazy("The attachment must be a PDF, XLSX or CSV file.")


class NotAssigned(NotFound):
    code = "not_assigned"
    default_message = gettext_lazy("No unit assigned to you has this report.")


class InvalidTransition(DomainError):
    code = "invalid_transition"
    status = 409
    default_message = gettext_lazy("The report is not in a state that allows this.")


class SameVerifier(DomainError):
    code = "same_verifier"
    status = 409
    default_message = gettext_lazy("The verifier of a report cannot also confirm it.")


class ObjectionPending(DomainError):
    code = "objection_pending"
    status = 409
    default_message = gettext_lazy("The company's objection must be decided first.")


class ObjectionWindowClosed(DomainError):
    code = "objection_window_closed"
    status = 409
    default_message = gettext_lazy("The time to object to the verification has passed.")


class ObjectionAlreadyFiled(DomainError):
    code = "objection_already_filed"
    status = 409
    default_message = gettext_lazy("An objection to this verification was already filed.")


class AlreadyRecorded(DomainError):
    code = "already_recorded"
    status = 409
    default_message = gettext_lazy("Verified emissions for this unit and period are already recorded.")
