"""The allocation formulas (RULEBOOK.md: Allocation; 2024-2026 rules), as pure functions.

benchmark (power): allowance = electricity (MWh) x electricity benchmark (tCO2/MWh) x correction factor
                             + heat (GJ) x heat benchmark (tCO2/GJ)
intensity (steel, cement, aluminium from 2025):
                   allowance = product output (t) x intensity benchmark (tCO2e/t) x correction factor
verified (the new sectors' 2024): allowance = the unit's verified emissions

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


# The unit a company's record becomes when it has none (the old import format, the data migration).
DEFAULT_UNIT_CODE = "U1"

# The new sectors' intensity benchmarks (tCO2e per t of product), assumed defaults: category -> (sector, value).
SECTOR_INTENSITIES: dict[str, tuple[str, str]] = {
    "crude_steel": ("steel", "1.9"),
    "clinker": ("cement", "0.86"),
    "aluminium": ("aluminium", "1.5"),
}
# The first year the new sectors are covered (allocated their verified emissions), and the share of the
# previous year's verified emissions their pre-allocations issue from the year after.
SECTORS_FIRST_YEAR = 2024
SECTORS_PRE_ALLOCATION_SHARE = "70"


def sector_benchmarks(first_year: int, last_year: int) -> list[dict[str, object]]:
    """The new sectors' benchmark rows of a period (none before SECTORS_FIRST_YEAR), all marked
    assumed: the first year's allocation is the verified emissions; later years' is output x intensity,
    pre-allocated at 70 % of the previous year's verified emissions."""
    if last_year < SECTORS_FIRST_YEAR:
        return []
    rows: list[dict[str, object]] = []
    for category, (sector, intensity) in SECTOR_INTENSITIES.items():
        row: dict[str, object] = {"sector": sector, "unit_category": category, "electricity": Decimal(0), "heat": Decimal(0),
                                  "product_intensity": Decimal(intensity), "assumed": True}
        if first_year <= SECTORS_FIRST_YEAR:
            row["method"] = "verified"
        else:
            row.update(method="intensity", pre_allocation_share=Decimal(SECTORS_PRE_ALLOCATION_SHARE),
                       pre_allocation_basis="previous_verified")
        rows.append(row)
    return rows


def whole_tonnes(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def allocation_for(
    *, electricity_mwh: Decimal, heat_gj: Decimal, correction_factor: Decimal, electricity_benchmark: Decimal,
    heat_benchmark: Decimal,
) -> int:
    return whole_tonnes(electricity_mwh * electricity_benchmark * correction_factor + heat_gj * heat_benchmark)


def intensity_allocation(*, output_t: Decimal, intensity: Decimal, correction_factor: Decimal) -> int:
    return whole_tonnes(output_t * intensity * correction_factor)


def co2e_tonnes(*, co2_t: Decimal, cf4_t: Decimal, c2f6_t: Decimal, cf4_gwp: int, c2f6_gwp: int) -> int:
    """Whole tCO2e of a unit's gases (the perfluorocarbons weighted by their GWPs), rounded once, half up."""
    return whole_tonnes(co2_t + cf4_t * cf4_gwp + c2f6_t * c2f6_gwp)


def issue_share(allocation: int, percent: Decimal) -> int:
    return whole_tonnes(Decimal(allocation) * percent / 100)
