from core.errors import DomainError
from core.errors import ImportRefused as VerifiedEmissionsRefused  # noqa: F401  (the shared import refusal)


class IneligibleAsset(DomainError):
    code = "ineligible_asset"
    default_message = "This asset cannot be surrendered for this period."


class OffsetCapExceeded(DomainError):
    code = "offset_cap_exceeded"
    status = 409
    default_message = "Offsets may cover at most 5 % of the obligation."


class OverSurrender(DomainError):
    code = "over_surrender"
    status = 409
    default_message = "This would surrender more than the obligation."


class NoObligation(DomainError):
    code = "no_verified_emissions"
    status = 409
    default_message = "There are no verified emissions for this unit and period yet."


class PeriodClosed(DomainError):
    code = "period_closed"
    status = 409
    default_message = "The period's compliance deadline has been processed."

