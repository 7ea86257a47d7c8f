"""The offset registry's refusals (stable codes, see core.errors)."""

from django.utils.translation import gettext_lazy

from core.errors import DomainError


class SerialsRequired(DomainError):
    code = "serials_required"
    status = 409
    default_message = gettext_lazy("Offsets enter the registry only by an issuance of the offset registry, with serial numbers.")


class SerialsUnavailable(DomainError):
    code = "serials_unavailable"
    status = 409
    default_message = gettext_lazy("The account does not hold the serial ranges this movement needs.")


class SameRegulator(DomainError):
    code = "maker_checker"
    status = 403
    default_message = gettext_lazy("An issuance must be approved by a regulator other than the one who proposed it.")


class IssuanceNotInState(DomainError):
    code = "issuance_not_in_state"
    status = 409
    default_message = gettext_lazy("This issuance is not awaiting approval.")
