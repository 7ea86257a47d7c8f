"""Formatting for the market pages: prices and money in fen, depth bars."""

from django import template

from core.money import format_minor_units

register = template.Library()


@register.filter
def fen(value: int | None) -> str:
    """4800 -> "48.00"; 123456789 -> "1,234,567.89"; None -> "–"."""
    if value is None or value == "":
        return "–"
    whole, _, fraction = format_minor_units(int(value), 2).partition(".")
    sign = "-" if whole.startswith("-") else ""
    return f"{sign}{int(whole.lstrip('-')):,}.{fraction}"


@register.filter
def signed_fen(value: int | None) -> str:
    if value is None or value == "":
        return "–"
    return ("+" if value > 0 else "") + fen(value)


@register.filter
def signed_percent(value: float | None) -> str:
    """1.4384 -> "+1.44%"; None -> ""."""
    if value is None or value == "":
        return ""
    return f"{value:+.2f}%"


@register.filter
def depth_step(quantity: int, largest: int) -> int:
    """A level's depth bar as a step of 5 %, 0 to 20 (CSS classes, so no inline styles)."""
    if not largest:
        return 0
    return max(1, round(quantity * 20 / largest))


@register.filter
def price_text(value: int | None) -> str:
    """4800 -> "48.00", as typed into the ticket."""
    return "" if value is None or value == "" else format_minor_units(int(value), 2)


@register.filter
def intcomma_t(value: int | None) -> str:
    """Whole tonnes with thousands separators, whatever the language."""
    return "–" if value is None or value == "" else f"{int(value):,}"
