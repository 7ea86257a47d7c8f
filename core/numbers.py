"""Numbers typed by people: one parser for the API, the pages and the file imports.

A number means one thing. Quantities are whole numbers written with the ASCII digits 0-9 (thousands
may be grouped with commas: "1,234,567"); prices and measures have at most a fixed number of
decimals. Full-width digits, as a Chinese input method types them ("４９", "４８．５０"), are the same
characters to a reader and are normalised (NFKC) to ASCII. Every other script's digits ("٤٩",
"𝟒𝟗", "४९"), exponents ("4.9e1", "1E+400"), NaN and infinities, and for quantities fractions
("49.5", "1000.0", and a JSON float such as 49.5 or 1000.0) are refused with a message that names
the field: Python's int() and Decimal() would accept most of them, each with a different meaning.

NFKC would also turn "𝟒" (mathematical bold) or "⁴" (superscript) into "4", so the raw characters
are checked first: only U+FF10-U+FF19 and the full-width '.', ',' and '-' are normalised.

Order entry calls this on every order: the plain-ASCII case is one `isascii()` and one precompiled
regular expression, no Decimal."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from core.errors import InvalidInput

# The registry's largest amount (registry.services.MAX_AMOUNT), repeated to keep core free of registry.
MAX_QUANTITY = 10**15
# Longer text is refused before any parsing (no int() of a 100,000-digit string).
MAX_CHARS = 40

# Full-width digits and the punctuation of a number, as typed by a CJK input method; U+3000 is the
# ideographic space (str.strip() removes it too).
_FULL_WIDTH = {0xFF10 + digit: str(digit) for digit in range(10)} | {0xFF0E: ".", 0xFF0C: ",", 0xFF0D: "-", 0x3000: " "}
_FULL_WIDTH_TABLE = str.maketrans(_FULL_WIDTH)

_INTEGER = re.compile(r"-?[0-9]+")
_GROUPED = re.compile(r"-?[0-9]{1,3}(?:,[0-9]{3})+")
_DECIMAL = re.compile(r"(-?)([0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.([0-9]+))?")
_EXPONENT = re.compile(r"[0-9.]\s*[eE]\s*[-+]?[0-9]")


# Every refusal here is an InvalidInput (code `invalid`, the field named) that also carries `detail`,
# the message without the field's name (an import's row error names the field beside it), and
# `reason`: digits, exponent, fraction, decimals, not_a_number, too_long, too_small or too_large.
# (Not a subclass: each DomainError class has a code of its own, and this is the `invalid` one.)
NumberRefused = InvalidInput


def _refused(detail: str, *, field: str, reason: str) -> InvalidInput:
    error = InvalidInput(_("%(field)s: %(detail)s") % {"field": field, "detail": detail}, field=field)
    error.detail = detail  # type: ignore[attr-defined]
    error.reason = reason  # type: ignore[attr-defined]
    return error


def _shown(value: Any) -> str:
    text = str(value)
    return repr(text if len(text) <= 24 else text[:24] + "…")


def ascii_number_text(value: str, *, field: str) -> str:
    """The text stripped, with full-width digits and punctuation made ASCII; other non-ASCII refused."""
    text = value.strip()
    if text.isascii():
        return text
    if len(text) > MAX_CHARS:
        raise _refused(_("%(value)s is too long for a number.") % {"value": _shown(text)}, field=field, reason="too_long")
    normal = text.translate(_FULL_WIDTH_TABLE).strip()
    if not normal.isascii():
        raise _refused(
            _("%(value)s is not written with the digits 0-9.") % {"value": _shown(text)}, field=field, reason="digits")
    return normal


def _not_a_number(text: str, field: str, *, whole: bool) -> InvalidInput:
    if _EXPONENT.search(text):
        return _refused(_("%(value)s has an exponent; write the number out in full.") % {"value": _shown(text)},
                             field=field, reason="exponent")
    if whole and _DECIMAL.fullmatch(text):
        return _refused(_("%(value)s is not a whole number.") % {"value": _shown(text)}, field=field, reason="fraction")
    if whole:
        return _refused(_("%(value)s is not a whole number.") % {"value": _shown(text)}, field=field,
                             reason="not_a_number")
    return _refused(_("%(value)s is not a number.") % {"value": _shown(text)}, field=field, reason="not_a_number")


def _bounded(number: int | Decimal, field: str, minimum: int | Decimal | None, maximum: int | Decimal | None) -> None:
    if minimum is not None and number < minimum:
        raise _refused(_("%(value)s is below the minimum, %(minimum)s.") % {"value": _shown(number), "minimum": f"{minimum:,}"},
                            field=field, reason="too_small")
    if maximum is not None and number > maximum:
        raise _refused(_("%(value)s is above the maximum, %(maximum)s.") % {"value": _shown(number), "maximum": f"{maximum:,}"},
                            field=field, reason="too_large")


def parse_quantity(
    value: Any, *, field: str = "quantity", minimum: int | None = 1, maximum: int | None = MAX_QUANTITY
) -> int:
    """A whole number: an int (not a bool, not a float, even 1000.0) or text of ASCII or full-width
    digits, commas allowed between groups of three. `minimum`/`maximum` None: no bound (the caller
    checks its own range and answers with its own code)."""
    if type(value) is int:
        number = value
    elif isinstance(value, str):
        if len(value) > MAX_CHARS:
            raise _refused(_("%(value)s is too long for a number.") % {"value": _shown(value)}, field=field,
                                reason="too_long")
        text = ascii_number_text(value, field=field)
        if _INTEGER.fullmatch(text):
            number = int(text)
        elif _GROUPED.fullmatch(text):
            number = int(text.replace(",", ""))
        else:
            raise _not_a_number(text, field, whole=True)
    elif isinstance(value, bool) or value is None:
        raise _refused(_("%(value)s is not a whole number.") % {"value": _shown(value)}, field=field,
                            reason="not_a_number")
    elif isinstance(value, int):  # an int subclass other than bool
        number = int(value)
    elif isinstance(value, (float, Decimal)):
        raise _refused(_("%(value)s is not a whole number.") % {"value": _shown(value)}, field=field, reason="fraction")
    else:
        raise _refused(_("%(value)s is not a whole number.") % {"value": _shown(value)}, field=field,
                            reason="not_a_number")
    _bounded(number, field, minimum, maximum)
    return number


def _decimal_parts(value: Any, field: str, places: int) -> tuple[str, str, str]:
    """(sign, whole digits, fraction digits) of a decimal written in full."""
    if isinstance(value, bool) or value is None:
        raise _refused(_("%(value)s is not a number.") % {"value": _shown(value)}, field=field, reason="not_a_number")
    if type(value) is int:
        return ("-" if value < 0 else ""), str(abs(value)), ""
    if isinstance(value, float):
        value = repr(value)  # 48.5 -> "48.5"; 1e+30 -> "1e+30", refused below as an exponent
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise _refused(_("%(value)s is not a number.") % {"value": _shown(value)}, field=field, reason="not_a_number")
        value = str(value)
    elif not isinstance(value, str):
        raise _refused(_("%(value)s is not a number.") % {"value": _shown(value)}, field=field, reason="not_a_number")
    if len(value) > MAX_CHARS:
        raise _refused(_("%(value)s is too long for a number.") % {"value": _shown(value)}, field=field, reason="too_long")
    text = ascii_number_text(value, field=field)
    match = _DECIMAL.fullmatch(text)
    if match is None:
        raise _not_a_number(text, field, whole=False)
    sign, whole, fraction = match.group(1), match.group(2).replace(",", ""), match.group(3) or ""
    if len(fraction) > places:
        if places == 0:
            raise _refused(_("%(value)s is not a whole number.") % {"value": _shown(text)}, field=field, reason="fraction")
        raise _refused(_("%(value)s has more than %(places)s decimals.") % {"value": _shown(text), "places": places},
                            field=field, reason="decimals")
    return sign, whole, fraction


def parse_price(value: Any, *, field: str = "price", places: int = 2) -> int:
    """A price in minor units: "48.50" -> 4850 (fen). At most `places` decimals, digits as for
    quantities; an int is whole yuan. The sign is kept (the caller decides whether 0 or less is a
    price); the magnitude is bounded by MAX_CHARS."""
    if type(value) is str and value.isascii():  # the order hot path
        match = _DECIMAL.fullmatch(value.strip())
        if match is not None and "," not in value and len(value) <= MAX_CHARS:
            sign, whole, fraction = match.group(1), match.group(2), match.group(3) or ""
            if len(fraction) <= places:
                minor = int(whole) * 10**places + (int(fraction.ljust(places, "0")) if places else 0)
                return -minor if sign else minor
    sign, whole, fraction = _decimal_parts(value, field, places)
    minor = int(whole) * 10**places + (int(fraction.ljust(places, "0")) if places else 0)
    return -minor if sign else minor


def parse_decimal(
    value: Any, *, field: str, places: int, minimum: Decimal | int | None = None,
    below: Decimal | int | None = Decimal(10) ** 13,
) -> Decimal:
    """A measure of an import (MWh, GJ, a factor): at most `places` decimals, written in full with
    the digits rule above, its magnitude below `below`; `minimum` as parse_quantity's."""
    sign, whole, fraction = _decimal_parts(value, field, places)
    if below is not None and len(whole.lstrip("0")) > 30:
        raise _refused(_("%(value)s is too large.") % {"value": _shown(value)}, field=field, reason="too_large")
    number = Decimal(f"{sign}{whole}.{fraction}" if fraction else f"{sign}{whole}")
    if below is not None and abs(number) >= below:
        raise _refused(_("%(value)s is too large: it must be below %(limit)s.") % {"value": _shown(value), "limit": f"{below:,}"},
                            field=field, reason="too_large")
    _bounded(number, field, minimum, None)
    return number


# --- the same parser as an API field and a form field ---

from django import forms  # noqa: E402
from django.core.exceptions import ValidationError  # noqa: E402
from rest_framework import serializers  # noqa: E402


@extend_schema_field({"type": "integer"})
@extend_schema_field(OpenApiTypes.INT)
class QuantityField(serializers.Field):
    """A whole number in the API: a JSON integer, or a string of digits (a multipart form's); a JSON
    float (49.5, 1000.0), an exponent or another script's digits is a 400 `invalid` naming the field.
    Without bounds the service checks the range and answers with its own code."""

    def __init__(self, *, minimum: int | None = None, maximum: int | None = None, **kwargs: Any) -> None:
        self.minimum, self.maximum = minimum, maximum
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        if type(data) is int and self.minimum is None and self.maximum is None:
            return data  # the order hot path
        try:
            return parse_quantity(data, field=self.field_name or "quantity", minimum=self.minimum, maximum=self.maximum)
        except NumberRefused as refused:
            raise serializers.ValidationError(refused.message, code="invalid") from None

    def to_representation(self, value: int) -> int:
        return value


class QuantityFormField(forms.Field):
    """A whole number on a page, by the same rule (full-width digits accepted, the rest refused with
    the field named); a text input with a numeric keyboard, so a Chinese input method can type it."""

    def __init__(self, *, name: str, minimum: int | None = 1, maximum: int | None = MAX_QUANTITY, **kwargs: Any) -> None:
        self.number_name, self.minimum, self.maximum = name, minimum, maximum
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return None
        try:
            return parse_quantity(value, field=self.number_name, minimum=self.minimum, maximum=self.maximum)
        except NumberRefused as refused:
            raise ValidationError(refused.message, code="invalid") from None
