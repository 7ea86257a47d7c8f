from django import template
from django.utils.translation import pgettext

from core.money import format_minor_units
from registry.models import Asset

register = template.Library()


def _grouped(text: str) -> str:
    whole, _, fraction = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    grouped = f"{int(whole.lstrip('-')):,}"
    return f"{sign}{grouped}.{fraction}" if fraction else f"{sign}{grouped}"


@register.filter
def asset_name(asset: Asset) -> str:
    """The asset as a reader calls it: allowances and offsets by their code (CEA21), cash by its
    currency in the reader's language (CNY, 人民币)."""
    return pgettext("asset", "CNY") if asset.code == "CNY" else asset.code


@register.filter
def amount(value: int, asset: Asset) -> str:
    """{{ balance.available|amount:balance.asset }} -> "1,250.00" for CNY, "3,000" for tonnes."""
    return _grouped(asset.format(value))


@register.filter
def fen(value: int | None) -> str:
    """{{ order.price|fen }} -> "1,250.00": an amount of fen as yuan."""
    return "" if value is None else _grouped(format_minor_units(value, 2))


@register.filter
def tonnes(value: int | None) -> str:
    """{{ trade.quantity|tonnes }} -> "3,000"."""
    return "" if value is None else f"{value:,}"
