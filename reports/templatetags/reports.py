from django import template

from registry.models import Asset
from registry.templatetags.ledger import amount

register = template.Library()

_YUAN = Asset(code="CNY", decimals=2)  # an amount format, never saved


@register.filter
def yuan(fen: int | None) -> str:
    """{{ row.fine_basis_low|yuan }}: 123456789 fen -> "1,234,567.89"."""
    return "" if fen is None else amount(fen, _YUAN)
