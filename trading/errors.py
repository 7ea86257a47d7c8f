"""The exchange's refusals, each with the stable code API clients rely on."""

from django.utils.translation import gettext_lazy

from core.errors import DomainError
from core.errors import NotEligible as NotEligible  # one code, one class: re-exported for trading


class UnknownInstrument(DomainError):
    """A symbol that names no instrument: a 400 in a body or a query, a 404 in a URL's path (see
    trading.selectors.instrument_unknown)."""

    code = "unknown_instrument"
    default_message = gettext_lazy("No such instrument.")


class InvalidPrice(DomainError):
    code = "invalid_price"
    default_message = gettext_lazy("The price must be a positive amount in CNY with at most two decimals.")


class InvalidTick(DomainError):
    code = "invalid_tick"
    default_message = gettext_lazy("The price is not a multiple of the tick size.")


class PriceOutOfBand(DomainError):
    code = "price_out_of_band"
    default_message = gettext_lazy("The price is outside today's price limits.")


class QuantityOutOfRange(DomainError):
    code = "quantity_out_of_range"
    default_message = gettext_lazy("The quantity is outside the allowed range.")


class InvalidSide(DomainError):
    code = "invalid_side"
    default_message = gettext_lazy("The side must be buy or sell.")


class MarketClosed(DomainError):
    code = "market_closed"
    status = 409
    default_message = gettext_lazy("The market is closed.")


class InstrumentHalted(DomainError):
    code = "instrument_halted"
    status = 409
    default_message = gettext_lazy("Trading in this instrument is halted.")


class InsufficientFunds(DomainError):
    code = "insufficient_funds"
    status = 409
    default_message = gettext_lazy("Available cash does not cover the order's value and fee.")


class InsufficientAllowances(DomainError):
    code = "insufficient_allowances"
    status = 409
    default_message = gettext_lazy("Available allowances do not cover the order.")


class PositionLimit(DomainError):
    code = "position_limit"
    status = 409
    default_message = gettext_lazy("The order would take your position above the limit.")


class OrderNotOpen(DomainError):
    code = "order_not_open"
    status = 409
    default_message = gettext_lazy("The order is no longer open.")


class EndOfDayPending(DomainError):
    code = "end_of_day_pending"
    status = 409
    default_message = gettext_lazy("The matcher has not yet applied the end-of-day expiry.")


class BelowBlockMinimum(DomainError):
    code = "below_block_minimum"
    default_message = gettext_lazy("A block trade is at least the block minimum quantity.")


class BlockSessionClosed(DomainError):
    code = "block_session_closed"
    status = 409
    default_message = gettext_lazy("Block trading is closed now.")


class NotCounterparty(DomainError):
    code = "not_counterparty"
    status = 403
    default_message = gettext_lazy("This offer is directed to another member.")


class OfferNotOpen(DomainError):
    code = "offer_not_open"
    status = 409
    default_message = gettext_lazy("The offer is no longer open.")


class AuctionNotOpen(DomainError):
    code = "auction_not_open"
    status = 409
    default_message = gettext_lazy("The auction is not taking bids now.")


class AuctionState(DomainError):
    code = "auction_state"
    status = 409
    default_message = gettext_lazy("The auction is not in a state that allows this.")


class PriceBeyondReserve(DomainError):
    code = "price_beyond_reserve"
    default_message = gettext_lazy("The bid is on the wrong side of the reserve price.")


class BelowMinimumBid(DomainError):
    code = "below_minimum_bid"
    default_message = gettext_lazy("The bid is below the auction's minimum bid.")


class AboveShareCap(DomainError):
    code = "above_share_cap"
    default_message = gettext_lazy("The bid is above the maximum share one bidder may win.")


class OwnAuction(DomainError):
    code = "own_auction"
    status = 403
    default_message = gettext_lazy("An initiator may not bid in its own auction.")


class MakerChecker(DomainError):
    code = "auction_maker_checker"
    status = 403
    default_message = gettext_lazy("An auction must be approved by someone other than the one who announced it.")
