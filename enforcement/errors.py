"""Refusals of the enforcement and disclosure services, each with a stable code."""

from django.utils.translation import gettext_lazy

from core.errors import DomainError


class AmountOutOfRange(DomainError):
    code = "amount_out_of_range"
    default_message = gettext_lazy("The amount is outside the range the regulations allow for this decision.")


class NotNonCompliant(DomainError):
    code = "not_non_compliant"
    status = 409
    default_message = gettext_lazy("The company has no shortfall for this period (status B) to enforce.")


class NoFineBasis(DomainError):
    code = "no_fine_basis"
    status = 409
    default_message = gettext_lazy("The period has no fine basis for this company (no trades in the month before the deadline).")


class CaseRequired(DomainError):
    code = "case_required"
    default_message = gettext_lazy("A data-fraud decision belongs to an open fraud case against the organization.")


class DecisionNotInState(DomainError):
    code = "decision_state"
    status = 409
    default_message = gettext_lazy("The decision is not in a state that allows this.")


class SameRegulator(DomainError):
    code = "decision_maker_checker"
    status = 403
    default_message = gettext_lazy("A decision must be approved or rejected by a regulator other than the one who proposed it.")


class AlreadyHalted(DomainError):
    code = "already_halted"
    status = 409
    default_message = gettext_lazy("A production halt against this company is already in force or proposed.")


class NoNextPeriod(DomainError):
    code = "no_next_period"
    status = 409
    default_message = gettext_lazy("There is no later compliance period whose allocation could be cut.")


class DisclosureNotInState(DomainError):
    code = "disclosure_state"
    status = 409
    default_message = gettext_lazy("The disclosure is not in a state that allows this.")
