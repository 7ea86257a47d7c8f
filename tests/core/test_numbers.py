"""core.numbers: the one parser of quantities, prices and import measures (issue 15, item 4)."""

from __future__ import annotations

import timeit
from decimal import Decimal

import pytest

from compliance.forms import DecisionForm, SurrenderForm, VerifyForm
from core.numbers import NumberRefused, QuantityFormField, parse_decimal, parse_price, parse_quantity


@pytest.mark.parametrize(("text", "number"), [
    ("49", 49), (49, 49), (" 49 ", 49), ("1,234,567", 1_234_567), ("４９", 49), ("１，０００", 1000), ("\u300049\u3000", 49),
])
def test_quantities_in_ascii_or_full_width_digits(text, number):
    assert parse_quantity(text) == number


@pytest.mark.parametrize(("value", "reason"), [
    ("4.9e1", "exponent"), ("1E+400", "exponent"), ("49.5", "fraction"), ("1000.0", "fraction"), (49.5, "fraction"),
    (1000.0, "fraction"), (Decimal("49"), "fraction"), ("٤٩", "digits"), ("𝟒𝟗", "digits"), ("⁴⁹", "digits"),
    ("४९", "digits"), ("1,23", "not_a_number"), ("NaN", "not_a_number"), ("", "not_a_number"), (True, "not_a_number"),
    (None, "not_a_number"), ("9" * 41, "too_long"), ("0", "too_small"), (10**16, "too_large"), ("+49", "not_a_number"),
])
def test_anything_else_is_refused_naming_the_field(value, reason):
    with pytest.raises(NumberRefused) as refused:
        parse_quantity(value, field="tonnes")
    assert refused.value.reason == reason
    assert (refused.value.code, refused.value.field) == ("invalid", "tonnes")
    assert refused.value.message.startswith("tonnes: ")


def test_nfkc_is_not_the_rule_the_raw_characters_are():
    import unicodedata

    assert unicodedata.normalize("NFKC", "𝟒𝟗") == "49"  # what a plain NFKC would accept
    with pytest.raises(NumberRefused):
        parse_quantity("𝟒𝟗")


@pytest.mark.parametrize(("text", "fen"), [
    ("48.00", 4800), ("48", 4800), ("48.5", 4850), ("0.01", 1), ("４８．５０", 4850), (48, 4800), (48.5, 4850), ("-1", -100),
])
def test_prices_have_at_most_two_decimals(text, fen):
    assert parse_price(text) == fen


@pytest.mark.parametrize(("text", "reason"), [
    ("48.001", "decimals"), ("48.000", "decimals"), ("4.8e1", "exponent"), ("٤٨", "digits"), ("𝟒𝟖.00", "digits"),
    ("NaN", "not_a_number"), ("Infinity", "not_a_number"), ("48.", "not_a_number"), (".5", "not_a_number"), ("", "not_a_number"),
])
def test_prices_refused(text, reason):
    with pytest.raises(NumberRefused) as refused:
        parse_price(text)
    assert (refused.value.reason, refused.value.field) == (reason, "price")


def test_import_measures_are_bounded_and_exact():
    assert parse_decimal("250000.5", field="electricity_mwh", places=3) == Decimal("250000.5")
    assert parse_decimal("1,000,000.125", field="electricity_mwh", places=3) == Decimal("1000000.125")
    for text, reason in [("1e30", "exponent"), ("1E+400", "exponent"), ("1" * 14, "too_large"), ("0.0001", "decimals"),
                         ("٤", "digits"), ("x" * 5000, "too_long")]:
        with pytest.raises(NumberRefused) as refused:
            parse_decimal(text, field="heat_gj", places=3)
        assert refused.value.reason == reason, text


def test_the_plain_ascii_path_is_cheap():
    # Order entry parses a price and a quantity per order: well under 10 us each.
    per_call = min(timeit.repeat(lambda: parse_price("54.22"), number=10_000, repeat=3)) / 10_000
    assert per_call < 10e-6, per_call
    per_call = min(timeit.repeat(lambda: parse_quantity("100"), number=10_000, repeat=3)) / 10_000
    assert per_call < 10e-6, per_call


@pytest.mark.parametrize("form, name", [(SurrenderForm, "quantity"), (VerifyForm, "verified_emissions"),
                                        (DecisionForm, "corrected_emissions")])
def test_the_compliance_forms_use_the_same_parser(form, name):
    field = form.base_fields[name]
    assert isinstance(field, QuantityFormField)
    assert field.clean("４９") == 49
    for text in ("٤٩", "4.9e1", "49.5", "1000.0"):
        with pytest.raises(Exception) as refused:
            field.clean(text)
        assert name in str(refused.value)
