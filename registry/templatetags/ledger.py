from django import template

from registry.models import Asset

register = template.Library()


@register.filter
def amount(value: int, asset: Asset) -> str:
    """{{ balance.available|amount:balance.asset }} -> "1,250.00" for CNY, "3,000" for tonnes."""
    text = asset.format(value)
    whole, _, fraction = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    grouped = f"{int(whole.lstrip('-')):,}"
    return f"{sign}{grouped}.{fraction}" if fraction else f"{sign}{grouped}"
