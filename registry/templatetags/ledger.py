from decimal import Decimal

from django import template
from django.utils.translation import pgettext

from core.money import format_grouped
from registry.models import Asset

register = template.Library()


@register.filter
def asset_name(asset: Asset) -> str:
    """The asset as a reader calls it: allowances and offsets by their code (CEA21), cash by its
    currency in the reader's language (CNY, 人民币)."""
    return pgettext("asset", "CNY") if asset.code == "CNY" else asset.code


@register.filter
def amount(value: int, asset: Asset) -> str:
    """{{ balance.available|amount:balance.asset }} -> "1,250.00" for CNY, "3,000" for tonnes."""
    return format_grouped(value, asset.decimals)


@register.filter
def fen(value: int | None) -> str:
    """{{ order.price|fen }} -> "1,250.00": an amount of fen as yuan."""
    return "" if value is None else format_grouped(value, 2)


@register.filter
def tonnes(value: int | None) -> str:
    """{{ trade.quantity|tonnes }} -> "3,000"."""
    return "" if value is None else f"{value:,}"


@register.filter
def measure(value: Decimal | None) -> str:
    """{{ line.electricity_mwh|measure }} -> "4,564,123.000": a measured quantity with its decimals, grouped
    the same way in every language."""
    return "" if value is None else f"{value:,}"
