"""Amounts in the ledger are integers in the asset's smallest unit: fen for CNY, tonnes for allowances.

Conversions to and from text happen at the edges only, through these functions. Never floats.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

from core.errors import InvalidInput


def format_minor_units(amount: int, decimals: int) -> str:
    """12345 fen with 2 decimals -> "123.45"; 500 tonnes with 0 decimals -> "500"."""
    if decimals == 0:
        return str(amount)
    return str((Decimal(amount) / (Decimal(10) ** decimals)).quantize(Decimal(1).scaleb(-decimals)))


def format_grouped(amount: int, decimals: int) -> str:
    """As format_minor_units, with thousands separators: 5000000000 fen -> "50,000,000.00"."""
    if decimals == 0:
        return f"{amount:,}"
    return f"{Decimal(amount).scaleb(-decimals):,.{decimals}f}"


def parse_minor_units(text: str | int | Decimal, decimals: int, *, field: str | None = None) -> int:
    """"123.45" with 2 decimals -> 12345. Refuses more decimal places than the asset has."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise InvalidInput(_("%(value)s is not a number.") % {"value": repr(text)}, field=field) from None
    if not value.is_finite():
        raise InvalidInput(_("%(value)s is not a number.") % {"value": repr(text)}, field=field)
    scaled = value.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise InvalidInput(_("At most %(places)s decimal places are allowed.") % {"places": decimals}, field=field)
    return int(scaled.to_integral_value(rounding=ROUND_HALF_UP))
