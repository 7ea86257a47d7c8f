"""The offset registry's refusals (stable codes, see core.errors)."""

from django.utils.translation import gettext_lazy

from allocation.services import SameRegulator
from core.errors import DomainError

# The maker-checker refusal is allocation's (one class per code); an issuance's says so in its message.
ISSUANCE_SAME_REGULATOR = gettext_lazy("An issuance must be approved by a regulator other than the one who proposed it.")
__all__ = ["ISSUANCE_SAME_REGULATOR", "IssuanceNotInState", "SameRegulator", "SerialsRequired", "SerialsUnavailable"]


class SerialsRequired(DomainError):
    code = "serials_required"
    status = 409
    default_message = gettext_lazy("Offsets enter the registry only by an issuance of the offset registry, with serial numbers.")


class SerialsUnavailable(DomainError):
    code = "serials_unavailable"
    status = 409
    default_message = gettext_lazy("The account does not hold the serial ranges this movement needs.")


class IssuanceNotInState(DomainError):
    code = "issuance_not_in_state"
    status = 409
    default_message = gettext_lazy("This issuance is not awaiting approval.")
