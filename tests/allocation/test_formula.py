"""The benchmark formula (RULEBOOK.md: Allocation) against cases computed by hand:

    allowance = electricity (MWh) x benchmark (tCO2/MWh) x correction factor + heat (GJ) x heat benchmark (tCO2/GJ)

rounded once, half up, to whole tonnes; the issued share is rounded the same way. No database."""

from decimal import Decimal

import pytest

from allocation.formula import DEFAULT_BENCHMARKS, allocation_for, issue_share, whole_tonnes


def allocation(year: str, category: str, *, electricity: str, heat: str, factor: str) -> int:
    electricity_benchmark, heat_benchmark = DEFAULT_BENCHMARKS[year][category]
    return allocation_for(
        electricity_mwh=Decimal(electricity), heat_gj=Decimal(heat), correction_factor=Decimal(factor),
        electricity_benchmark=Decimal(electricity_benchmark), heat_benchmark=Decimal(heat_benchmark),
    )


def test_the_default_benchmarks_are_the_rulebooks():
    # RULEBOOK.md: electricity 2019-20 / 2021 / 2022; heat coal 0.126 -> 0.1105, gas 0.059 -> 0.0557.
    assert DEFAULT_BENCHMARKS["2019-2020"] == {
        "coal_gt300": ("0.877", "0.126"),
        "coal_le300": ("0.979", "0.126"),
        "coal_unconventional": ("1.146", "0.126"),
        "gas": ("0.392", "0.059"),
    }
    assert DEFAULT_BENCHMARKS["2021"] == {
        "coal_gt300": ("0.8218", "0.1105"),
        "coal_le300": ("0.8773", "0.1105"),
        "coal_unconventional": ("0.935", "0.1105"),
        "gas": ("0.392", "0.0557"),
    }
    assert {category: e for category, (e, _) in DEFAULT_BENCHMARKS["2022"].items()} == {
        "coal_gt300": "0.8177", "coal_le300": "0.8729", "coal_unconventional": "0.9303", "gas": "0.3901",
    }


# --- 2021 benchmarks ---


def test_coal_above_300_mw_2021():
    # 600,000 MWh x 0.8218 = 493,080; x 0.95 = 468,426
    # 12,345 GJ x 0.1105 = 1,364.1225
    # 468,426 + 1,364.1225 = 469,790.1225 -> 469,790
    assert allocation("2021", "coal_gt300", electricity="600000", heat="12345", factor="0.95") == 469_790


def test_coal_300_mw_and_below_2021():
    # 250,000.5 MWh x 0.8773 = 219,325.43865; x 1.03 = 225,905.2018095
    # no heat
    # 225,905.2018095 -> 225,905
    assert allocation("2021", "coal_le300", electricity="250000.5", heat="0", factor="1.03") == 225_905


def test_unconventional_coal_2021():
    # 80,000 MWh x 0.935 = 74,800; x 1.1 = 82,280
    # 2,500 GJ x 0.1105 = 276.25
    # 82,280 + 276.25 = 82,556.25 -> 82,556
    assert allocation("2021", "coal_unconventional", electricity="80000", heat="2500", factor="1.1") == 82_556


def test_gas_2021():
    # 150,000 MWh x 0.392 = 58,800; x 0.9 = 52,920
    # 30,010 GJ x 0.0557 (the gas heat benchmark, not coal's 0.1105) = 1,671.557
    # 52,920 + 1,671.557 = 54,591.557 -> 54,592 (rounds up above .5)
    assert allocation("2021", "gas", electricity="150000", heat="30010", factor="0.9") == 54_592


# --- 2019-2020 benchmarks ---


def test_coal_above_300_mw_2019_2020():
    # 600,000 MWh x 0.877 = 526,200; x 0.95 = 499,890
    # 12,345 GJ x 0.126 = 1,555.47
    # 499,890 + 1,555.47 = 501,445.47 -> 501,445
    assert allocation("2019-2020", "coal_gt300", electricity="600000", heat="12345", factor="0.95") == 501_445


def test_coal_300_mw_and_below_2019_2020():
    # 250,000 MWh x 0.979 = 244,750; x 1.03 = 252,092.5
    # 7,777 GJ x 0.126 = 979.902
    # 252,092.5 + 979.902 = 253,072.402 -> 253,072
    assert allocation("2019-2020", "coal_le300", electricity="250000", heat="7777", factor="1.03") == 253_072


def test_unconventional_coal_2019_2020():
    # 80,000.4 MWh x 1.146 = 91,680.4584; x 1.1 = 100,848.50424
    # 2,500 GJ x 0.126 = 315
    # 100,848.50424 + 315 = 101,163.50424 -> 101,164
    assert allocation("2019-2020", "coal_unconventional", electricity="80000.4", heat="2500", factor="1.1") == 101_164


def test_gas_2019_2020():
    # 150,000 MWh x 0.392 = 58,800; x 0.9 = 52,920
    # 30,010 GJ x 0.059 = 1,770.59
    # 52,920 + 1,770.59 = 54,690.59 -> 54,691
    assert allocation("2019-2020", "gas", electricity="150000", heat="30010", factor="0.9") == 54_691


def test_the_same_unit_gets_less_under_the_tighter_2021_benchmark():
    # 1,000 MWh coal > 300 MW, factor 1: 2019-2020 1,000 x 0.877 = 877; 2021 1,000 x 0.8218 = 821.8 -> 822
    assert allocation("2019-2020", "coal_gt300", electricity="1000", heat="0", factor="1") == 877
    assert allocation("2021", "coal_gt300", electricity="1000", heat="0", factor="1") == 822


def test_the_correction_factor_scales_electricity_but_not_heat():
    # gas 2021, 1,000 MWh and 1,000 GJ:
    # factor 1:   1,000 x 0.392 x 1   = 392 ; + 1,000 x 0.0557 = 55.7 -> 447.7 -> 448
    # factor 0.5: 1,000 x 0.392 x 0.5 = 196 ; + 55.7 (heat unchanged)  -> 251.7 -> 252
    assert allocation("2021", "gas", electricity="1000", heat="1000", factor="1") == 448
    assert allocation("2021", "gas", electricity="1000", heat="1000", factor="0.5") == 252


def test_heat_alone_is_allocated():
    # coal 2021, no electricity: 10,000 GJ x 0.1105 = 1,105 ; gas 2021: 10,000 GJ x 0.0557 = 557
    assert allocation("2021", "coal_le300", electricity="0", heat="10000", factor="1") == 1_105
    assert allocation("2021", "gas", electricity="0", heat="10000", factor="1") == 557


# --- rounding at exactly .5 t ---


def test_exactly_half_a_tonne_rounds_up_after_adding_both_terms():
    # coal > 300 MW 2021, factor 1:
    # 5 MWh x 0.8218 = 4.109
    # 1,542 GJ x 0.1105 = 170.391
    # 4.109 + 170.391 = 174.5 -> 175 (half up; banker's rounding would give 174, and rounding each
    # term first would give 4 + 170 = 174)
    assert allocation("2021", "coal_gt300", electricity="5", heat="1542", factor="1") == 175


def test_exactly_half_a_tonne_with_a_correction_factor_rounds_up():
    # gas 2021: 10 MWh x 0.392 = 3.92; x 1.25 = 4.9
    # 8,000 GJ x 0.0557 = 445.6
    # 4.9 + 445.6 = 450.5 -> 451
    assert allocation("2021", "gas", electricity="10", heat="8000", factor="1.25") == 451


def test_exactly_half_a_tonne_from_2019_2020_benchmark_rounds_up():
    # coal <= 300 MW 2019-2020: 250,000 MWh x 0.979 = 244,750; x 1.03 = 252,092.5 ; no heat
    # 252,092.5 -> 252,093 (an even-rounding implementation would give 252,092)
    assert allocation("2019-2020", "coal_le300", electricity="250000", heat="0", factor="1.03") == 252_093


def test_just_below_half_a_tonne_rounds_down():
    # coal > 300 MW 2021: 5 MWh x 0.8218 = 4.109 ; 1,541.999 GJ x 0.1105 = 170.3908895
    # 4.109 + 170.3908895 = 174.4998895 -> 174
    assert allocation("2021", "coal_gt300", electricity="5", heat="1541.999", factor="1") == 174


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.5", 1), ("1.5", 2), ("2.5", 3), ("2.4999", 2), ("0.4999", 0), ("0", 0), ("7", 7)],
)
def test_whole_tonnes_rounds_half_up(value, expected):
    assert whole_tonnes(Decimal(value)) == expected


# --- the issued share ---


@pytest.mark.parametrize(
    ("allocation_t", "percent", "expected", "arithmetic"),
    [
        (469_790, "70", 328_853, "469,790 x 70 / 100 = 328,853 exactly"),
        (175, "70", 123, "175 x 70 / 100 = 122.5 -> 123 (half up)"),
        (15, "70", 11, "15 x 70 / 100 = 10.5 -> 11 (half-even would give 10)"),
        (451, "70", 316, "451 x 70 / 100 = 315.7 -> 316"),
        (54_592, "70", 38_214, "54,592 x 70 / 100 = 38,214.4 -> 38,214"),
        (3, "50", 2, "3 x 50 / 100 = 1.5 -> 2"),
        (1, "70", 1, "1 x 70 / 100 = 0.7 -> 1"),
        (5, "33.33", 2, "5 x 33.33 / 100 = 1.6665 -> 2"),
        (12_345, "100", 12_345, "the whole allocation"),
        (0, "70", 0, "nothing to issue"),
    ],
)
def test_issue_share(allocation_t, percent, expected, arithmetic):
    assert issue_share(allocation_t, Decimal(percent)) == expected, arithmetic


def test_issue_share_is_taken_from_the_rounded_allocation():
    # gas 2021, 10 MWh x 0.392 x 1.25 + 8,000 GJ x 0.0557 = 450.5 -> 451 t ; 70 % of 451 = 315.7 -> 316
    # (70 % of the unrounded 450.5 would be 315.35 -> 315)
    whole = allocation("2021", "gas", electricity="10", heat="8000", factor="1.25")
    assert issue_share(whole, Decimal("70")) == 316


def test_the_formula_returns_whole_tonnes_as_int():
    result = allocation("2021", "coal_gt300", electricity="1000.123", heat="10.5", factor="0.9876")
    # 1,000.123 x 0.8218 = 821.9010814 ; x 0.9876 = 811.70950799... ; + 10.5 x 0.1105 = 1.16025 -> 812.8697... -> 813
    assert result == 813 and type(result) is int
