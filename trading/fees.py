from decimal import ROUND_FLOOR, Decimal


def fee_for(value: int, rate: Decimal) -> int:
    """The fee in fen on a traded value in fen, rounded down.

    Rounding down makes fees superadditive-safe: the fees of the fills of an order never add up to
    more than the fee reserved for the whole order, so a reservation is never short.
    """
    return int((Decimal(value) * rate).to_integral_value(rounding=ROUND_FLOOR))


def buy_reservation(price: int, quantity: int, rate: Decimal) -> int:
    """Cash to reserve for a buy of `quantity` at limit `price`: value plus fee."""
    value = price * quantity
    return value + fee_for(value, rate)
