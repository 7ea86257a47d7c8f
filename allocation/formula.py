"""The benchmark formula for power units (RULEBOOK.md: Allocation), as pure functions.

allowance = electricity (MWh) x electricity benchmark (tCO2/MWh) x correction factor
          + heat (GJ) x heat benchmark (tCO2/GJ)

Rounding: the exact decimal result is rounded once, half up, to whole tonnes (0.5 t -> 1 t). The
issued share is rounded the same way from the whole-tonne allocation.
"""

from decimal import ROUND_HALF_UP, Decimal

# (electricity tCO2/MWh, heat tCO2/GJ) by category and the benchmark year they apply to.
DEFAULT_BENCHMARKS: dict[str, dict[str, tuple[str, str]]] = {
    "2019-2020": {
        "coal_gt300": ("0.877", "0.126"),
        "coal_le300": ("0.979", "0.126"),
        "coal_unconventional": ("1.146", "0.126"),
        "gas": ("0.392", "0.059"),
    },
    "2021": {
        "coal_gt300": ("0.8218", "0.1105"),
        "coal_le300": ("0.8773", "0.1105"),
        "coal_unconventional": ("0.935", "0.1105"),
        "gas": ("0.392", "0.0557"),
    },
    "2022": {
        "coal_gt300": ("0.8177", "0.1105"),
        "coal_le300": ("0.8729", "0.1105"),
        "coal_unconventional": ("0.9303", "0.1105"),
        "gas": ("0.3901", "0.0557"),
    },
}


def whole_tonnes(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def allocation_for(
    *, electricity_mwh: Decimal, heat_gj: Decimal, correction_factor: Decimal, electricity_benchmark: Decimal,
    heat_benchmark: Decimal,
) -> int:
    return whole_tonnes(electricity_mwh * electricity_benchmark * correction_factor + heat_gj * heat_benchmark)


def issue_share(allocation: int, percent: Decimal) -> int:
    return whole_tonnes(Decimal(allocation) * percent / 100)
