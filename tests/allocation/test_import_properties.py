"""Issue 15, property: imports cannot lie. Hypothesis writes allocation and verified-emissions files,
good and hostile (NUL, huge numbers, exponents, overlong cells, other scripts' digits, full-width
digits, duplicate headers, blank lines, XLSX with an understated <dimension>), and every import
either saves every row or saves nothing and names every bad row (its row number and column),
exactly the ones the generator made bad. Nothing else ever comes out: no traceback."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from accounts.models import Organization
from allocation.models import AllocationLine, AllocationPlan
from allocation.services import allocation_import
from compliance.models import VerifiedEmission
from compliance.services import verified_emissions_import
from core.errors import ImportRefused, InvalidInput
from tests.allocation.conftest import HEADER
from tests.allocation.test_import_hostile import understated_dimension
from tests.factories import OrganizationFactory, make_uscc

PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                             suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                    HealthCheck.large_base_example, HealthCheck.data_too_large])

FULL_WIDTH = str.maketrans("0123456789.,", "０１２３４５６７８９．，")


@dataclass(frozen=True)
class Cell:
    text: str
    bad: bool


def _written(number: str) -> st.SearchStrategy[str]:
    """The same number as people type it: plain, full-width (a Chinese input method), thousands grouped."""
    whole, _, fraction = number.partition(".")
    grouped = f"{int(whole):,}" + (f".{fraction}" if fraction else "")
    return st.sampled_from([number, number.translate(FULL_WIDTH), grouped, f" {number} "])


good_measure = st.builds(lambda whole, fraction: f"{whole}.{fraction}" if fraction else str(whole),
                         st.integers(0, 10**12), st.sampled_from(["", "5", "25", "125"])).flatmap(_written).map(lambda t: Cell(t, False))
HOSTILE_NUMBERS = ["1e30", "1E+400", "-1E+400", "4.9e1", "NaN", "Infinity", "-5", "12.3456", "٤٩", "𝟒𝟗", "⁴⁹", "४९",
                   "99999999999999", "1\x002", "x" * 1500, "", "1,2,3", "0x10"]
bad_measure = st.sampled_from(HOSTILE_NUMBERS).map(lambda t: Cell(t, True))
good_factor = st.sampled_from(["1", "0.5", "1.9999", "2", "", "１", "0.95"]).map(lambda t: Cell(t, False))
bad_factor = st.sampled_from(["0", "2.5", "-1", "1e0", "٤", "1.00001", "\x00", "9" * 2000]).map(lambda t: Cell(t, True))
good_category = st.sampled_from(["coal_gt300", "coal_le300", "coal_unconventional", "gas", " GAS "]).map(lambda t: Cell(t, False))
bad_category = st.sampled_from(["nuclear", "gas\x00", "c" * 1200, ""]).map(lambda t: Cell(t, True))


@st.composite
def allocation_files(draw, pool: list[str]):
    """(rows as cells, the set of bad (row, column), duplicate header?, blank lines, xlsx?, understated?)."""
    count = draw(st.integers(1, min(6, len(pool))))
    hostile = draw(st.booleans())  # else a clean file (still in any digits, spacing, format), which must be saved
    free = list(pool)
    used: list[str] = []
    first_row: dict[str, int] = {}
    records: list[list[str] | None] = []
    bad: set[tuple[int, str]] = set()
    for _ in range(count):
        while draw(st.integers(0, 4)) == 0:
            records.append(None)  # a blank line
        row_number = len(records) + 2
        kinds = ["good"] if not hostile else ["good", "good", "good", "unknown", "nul"] + (["duplicate"] if used else [])
        kind = draw(st.sampled_from(kinds))
        if kind == "good" and free:
            uscc = free.pop(draw(st.integers(0, len(free) - 1)))
            used.append(uscc)
            first_row[uscc] = row_number
            uscc = draw(st.sampled_from([uscc, uscc.lower(), f" {uscc} "]))
        elif kind == "duplicate":
            uscc = draw(st.sampled_from(used))
            bad.add((row_number, "uscc"))
            bad.add((first_row[uscc], "uscc"))  # every row of a duplicate set, the first too
        elif kind == "nul":
            uscc = "913700\x00" + "0" * 11
            bad.add((row_number, "uscc"))
        else:
            uscc = make_uscc("37", serial=draw(st.integers(900_000_000, 999_999_999)))
            bad.add((row_number, "uscc"))
        cells = {
            "unit_category": draw(st.one_of(good_category, good_category, bad_category) if hostile else good_category),
            "electricity_mwh": draw(st.one_of(good_measure, good_measure, bad_measure) if hostile else good_measure),
            "heat_gj": draw(st.one_of(good_measure, good_measure, bad_measure) if hostile else good_measure),
            "correction_factor": draw(st.one_of(good_factor, good_factor, bad_factor) if hostile else good_factor),
        }
        for column, cell in cells.items():
            if cell.bad:
                bad.add((row_number, column))
        records.append([uscc] + [cells[column].text for column in HEADER[1:]])
    duplicate_header = draw(st.integers(0, 9)) == 0
    xlsx = draw(st.booleans())
    understated = xlsx and draw(st.booleans())
    return records, bad, duplicate_header, xlsx, understated


def _file(records: list[list[str] | None], header: list[str], xlsx: bool, understated: bool) -> tuple[bytes, str]:
    if xlsx:
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        sheet.append(header)
        for record in records:
            sheet.append(record if record is not None else [None] * len(header))
        out = io.BytesIO()
        workbook.save(out)
        content = out.getvalue()
        return (understated_dimension(content) if understated else content), "plan.xlsx"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for record in records:
        writer.writerow(record or [])
    return out.getvalue().encode("utf-8"), "plan.csv"


def _xlsx_safe(records: list[list[str] | None]) -> list[list[str] | None]:
    """openpyxl cannot store control characters in a cell (Excel neither): in an XLSX a NUL cell is
    written as text without it, so the generator's NUL rows become unknown USCCs or plain bad text."""
    return [None if record is None else [cell.replace("\x00", "?") for cell in record] for record in records]


@pytest.fixture
def pool(db) -> list[str]:
    return [OrganizationFactory(name=f"Unit {i}", province="37", uscc=make_uscc("37", serial=100_000 + i)).uscc for i in range(6)]


def test_an_allocation_import_saves_every_row_or_none_and_names_every_bad_row(period_2021, cea21, national_regulator, pool):
    @PROPERTY_SETTINGS
    @given(allocation_files(pool))
    def check(generated):
        records, bad, duplicate_header, xlsx, understated = generated
        if xlsx:
            records = _xlsx_safe(records)
        header = HEADER + (["heat_gj"] if duplicate_header else [])
        content, filename = _file(records, header, xlsx, understated)
        rows = [record for record in records if record is not None]
        with transaction.atomic():
            try:
                plan = allocation_import(period=period_2021, vintage=cea21, stream=io.BytesIO(content), filename=filename,
                                         actor=national_regulator)
            except ImportRefused as refused:
                event("refused, rows named")
                assert not duplicate_header
                named = {(error.row, error.field) for error in refused.errors}
                if not xlsx:
                    assert named == bad, (records, refused.errors)
                else:  # the NUL rows were written as text: each still names the same row and column
                    assert {row for row, _ in named} == {row for row, _ in bad}, (records, refused.errors)
                assert all(error.message for error in refused.errors)
                assert not AllocationPlan.objects.exists() and not AllocationLine.objects.exists()
            except InvalidInput as refused:
                assert duplicate_header and refused.field == "file" and "twice" in refused.message
                assert not AllocationPlan.objects.exists()
            else:
                event("saved" + (" (understated xlsx)" if understated else ""))
                assert not bad and not duplicate_header, (records, bad)
                assert plan.lines.count() == len(rows)  # every row: none dropped, whatever <dimension> said
            transaction.set_rollback(True)

    check()


@st.composite
def verified_files(draw, pool: list[str]):
    count = draw(st.integers(1, len(pool)))
    usccs = draw(st.permutations(pool))[:count]
    hostile = draw(st.booleans())
    records: list[list[str] | None] = []
    bad: set[tuple[int, str]] = set()
    for uscc in usccs:
        while draw(st.integers(0, 4)) == 0:
            records.append(None)
        row_number = len(records) + 2
        good = st.integers(0, 10**15).flatmap(lambda n: _written(str(n))).map(lambda t: Cell(t, False))
        tonnes = draw(good if not hostile else st.one_of(
            good,
            st.sampled_from(["49.5", "1000.0", "4.9e1", "1e30", "1E+400", "-1", "٤٩", "𝟒𝟗", "10000000000000001", "",
                             "\x00", "9" * 3000]).map(lambda t: Cell(t, True)),
        ))
        if tonnes.bad:
            bad.add((row_number, "verified_emissions"))
        records.append([uscc, tonnes.text])
    return records, bad, draw(st.integers(0, 9)) == 0


def test_a_verified_emissions_import_saves_every_row_or_none_and_names_every_bad_row(period_2021, national_regulator, pool):
    @PROPERTY_SETTINGS
    @given(verified_files(pool))
    def check(generated):
        records, bad, duplicate_header = generated
        header = ["uscc", "verified_emissions"] + (["uscc"] if duplicate_header else [])
        content, filename = _file(records, header, False, False)
        with transaction.atomic():
            try:
                count = verified_emissions_import(period=period_2021, stream=io.BytesIO(content), filename=filename,
                                                  actor=national_regulator)
            except ImportRefused as refused:
                assert not duplicate_header
                assert {(error.row, error.field) for error in refused.errors} == bad, (records, refused.errors)
                assert not VerifiedEmission.objects.exists()
            except InvalidInput as refused:
                assert duplicate_header and refused.field == "file"
                assert not VerifiedEmission.objects.exists()
            else:
                event("saved")
                assert not bad and not duplicate_header
                assert count == VerifiedEmission.objects.count() == len([r for r in records if r is not None])
            transaction.set_rollback(True)

    check()


def test_the_pool_is_key_emitting_units(pool):
    assert Organization.objects.filter(uscc__in=pool, kind=Organization.Kind.KEY_EMITTING_UNIT).count() == len(pool)
