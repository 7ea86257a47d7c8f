"""Compliance periods and importing allocation plans from CSV and XLSX: every row's figures on a good
file, every row's error on a bad one (and then nothing saved), clear errors for unreadable files, and
the import_allocations management command."""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Organization
from allocation.importing import read_rows
from allocation.models import AllocationLine, AllocationPlan, Benchmark
from allocation.services import ImportRefused, allocation_import, allocation_preview, period_create
from core.errors import AlreadyExists, InvalidInput, PermissionDenied
from core.models import AuditEvent
from tests.allocation.conftest import HEADER, benchmark_table, csv_bytes, import_csv, nothing_saved, xlsx_bytes
from tests.factories import OrganizationFactory, make_uscc

# --- periods ---


def test_period_create_seeds_the_2021_benchmark_table(period_2021, cea21, national_regulator):
    assert benchmark_table(period_2021) == {
        "coal_gt300": ("0.8218", "0.1105"),
        "coal_le300": ("0.8773", "0.1105"),
        "coal_unconventional": ("0.935", "0.1105"),
        "gas": ("0.392", "0.0557"),
    }
    assert list(period_2021.vintages.all()) == [cea21]
    event = AuditEvent.objects.get(action="period.create", object_id=str(period_2021.pk))
    assert event.actor_id == national_regulator.pk


def test_period_create_seeds_the_2019_2020_table_and_the_deadlines(period_2019_2020, cea1920):
    assert benchmark_table(period_2019_2020) == {
        "coal_gt300": ("0.877", "0.126"),
        "coal_le300": ("0.979", "0.126"),
        "coal_unconventional": ("1.146", "0.126"),
        "gas": ("0.392", "0.059"),
    }
    # RULEBOOK.md: report by 31 March Y+1, verification about June Y+1, surrender by 31 December Y+1.
    assert period_2019_2020.emission_report_deadline == dt.date(2021, 3, 31)
    assert period_2019_2020.verification_deadline == dt.date(2021, 6, 30)
    assert period_2019_2020.surrender_deadline == dt.date(2021, 12, 31)
    assert list(period_2019_2020.vintages.all()) == [cea1920]


def test_period_create_refuses_a_second_period_with_the_same_code(period_2021, cea21, national_regulator):
    with nothing_saved(), pytest.raises(AlreadyExists):
        period_create(code="2021", first_year=2021, last_year=2021, vintages=[cea21], actor=national_regulator)
    assert Benchmark.objects.filter(period__code="2021").count() == 4


def test_only_a_national_regulator_creates_periods(shandong_regulator, cea21):
    with nothing_saved(), pytest.raises(PermissionDenied):
        period_create(code="2021", first_year=2021, last_year=2021, vintages=[cea21], actor=shandong_regulator)
    assert not Benchmark.objects.exists()


# --- a good file ---


@pytest.fixture
def good_units(company_a, company_b, shandong_units):
    return {"a": company_a, "b": company_b, "c": shandong_units[0], "d": shandong_units[1]}


def good_rows(units) -> list[list[str]]:
    return [
        [units["a"].uscc, "coal_gt300", "600000", "12345", "0.95"],
        [units["b"].uscc, "gas", "150000", "30010", "0.9"],
        [units["c"].uscc, "coal_le300", "250000.5", "0", "1.03"],
        [units["d"].uscc, "coal_unconventional", "80000", "2500", ""],  # a blank factor means 1
    ]


# (uscc key, computed t, issued t at 70 %), with the 2021 benchmarks:
EXPECTED_2021 = [
    # 600,000 x 0.8218 x 0.95 = 468,426 ; + 12,345 x 0.1105 = 1,364.1225 -> 469,790.1225 -> 469,790
    # 70 %: 328,853
    ("a", 469_790, 328_853),
    # 150,000 x 0.392 x 0.9 = 52,920 ; + 30,010 x 0.0557 = 1,671.557 -> 54,591.557 -> 54,592
    # 70 %: 38,214.4 -> 38,214
    ("b", 54_592, 38_214),
    # 250,000.5 x 0.8773 x 1.03 = 225,905.2018095 -> 225,905
    # 70 %: 158,133.5 -> 158,134 (half up)
    ("c", 225_905, 158_134),
    # 80,000 x 0.935 x 1 = 74,800 ; + 2,500 x 0.1105 = 276.25 -> 75,076.25 -> 75,076
    # 70 %: 52,553.2 -> 52,553
    ("d", 75_076, 52_553),
]
TOTAL_COMPUTED_2021 = 469_790 + 54_592 + 225_905 + 75_076  # 825,363
TOTAL_ISSUE_2021 = 328_853 + 38_214 + 158_134 + 52_553  # 577,754


def assert_plan_is_the_expected_draft(plan, units, *, actor, filename):
    assert plan.status == AllocationPlan.Status.DRAFT
    assert plan.created_by == actor and plan.submitted_by is None and plan.decided_by is None
    assert plan.source_name == filename
    assert plan.issue_percent == Decimal("70")
    assert (plan.total_computed, plan.total_issue) == (TOTAL_COMPUTED_2021, TOTAL_ISSUE_2021) == (825_363, 577_754)
    lines = {line.organization_id: line for line in AllocationLine.objects.filter(plan=plan)}
    assert len(lines) == 4
    for key, computed, issued in EXPECTED_2021:
        line = lines[units[key].pk]
        assert (line.computed_allocation, line.issue_amount) == (computed, issued), key
    assert lines[units["a"].pk].unit_category == "coal_gt300"
    assert lines[units["a"].pk].correction_factor == Decimal("0.95")
    assert lines[units["c"].pk].electricity_mwh == Decimal("250000.5")
    assert lines[units["d"].pk].correction_factor == Decimal("1")
    assert lines[units["b"].pk].heat_gj == Decimal("30010")


def test_the_preview_computes_every_row_and_saves_nothing(period_2021, good_units, national_regulator):
    rows = read_rows(io.BytesIO(csv_bytes(good_rows(good_units))), "plan.csv")
    with nothing_saved():
        preview = allocation_preview(period=period_2021, rows=rows, issue_percent=Decimal("70"), actor=national_regulator)
    assert preview.ok and preview.errors == []
    assert [(line.row, line.organization, line.computed_allocation, line.issue_amount) for line in preview.lines] == [
        (row, good_units[key], computed, issued) for row, (key, computed, issued) in enumerate(EXPECTED_2021, start=2)
    ]
    assert (preview.total_computed, preview.total_issue) == (825_363, 577_754)


def test_a_good_csv_saves_a_draft_plan_its_lines_and_one_audit_event(period_2021, cea21, good_units, national_regulator):
    last_event = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    plan = allocation_import(period=period_2021, vintage=cea21, stream=io.BytesIO(csv_bytes(good_rows(good_units))),
                             filename="plan-2021.csv", actor=national_regulator)
    plan.refresh_from_db()
    assert plan.period == period_2021 and plan.vintage == cea21
    assert_plan_is_the_expected_draft(plan, good_units, actor=national_regulator, filename="plan-2021.csv")
    events = list(AuditEvent.objects.filter(pk__gt=last_event))
    assert [event.action for event in events] == ["plan.import"]
    assert events[0].actor_id == national_regulator.pk and events[0].object_id == str(plan.pk)
    assert events[0].after["total_issue"] == 577_754 and events[0].after["units"] == 4


def test_a_good_xlsx_saves_the_same_plan(period_2021, cea21, good_units, national_regulator):
    u = good_units
    workbook = xlsx_bytes([
        [u["a"].uscc, "coal_gt300", 600000, 12345, 0.95],  # numbers typed as numbers in the sheet
        [u["b"].uscc, "gas", 150000, 30010, 0.9],
        [u["c"].uscc, "coal_le300", 250000.5, 0, 1.03],
        [u["d"].uscc, "coal_unconventional", "80000", "2500", None],  # text cells, empty factor
    ])
    last_event = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    plan = allocation_import(period=period_2021, vintage=cea21, stream=io.BytesIO(workbook), filename="plan-2021.xlsx",
                             actor=national_regulator)
    plan.refresh_from_db()
    assert_plan_is_the_expected_draft(plan, good_units, actor=national_regulator, filename="plan-2021.xlsx")
    assert list(AuditEvent.objects.filter(pk__gt=last_event).values_list("action", flat=True)) == ["plan.import"]


def test_a_csv_with_a_bom_capitalised_header_and_thousands_separators_is_read(period_2021, cea21, company_a, national_regulator):
    text = "\ufeffUSCC,Unit_Category,Electricity_MWh,Heat_GJ\n" + f'{company_a.uscc.lower()},COAL_GT300,"1,000",0\n'
    plan = allocation_import(period=period_2021, vintage=cea21, stream=io.BytesIO(text.encode("utf-8")), filename="PLAN.CSV",
                             actor=national_regulator)
    line = plan.lines.get()
    # 1,000 MWh x 0.8218 x 1 (no factor column) = 821.8 -> 822 ; 70 %: 575.4 -> 575
    assert (line.organization, line.computed_allocation, line.issue_amount) == (company_a, 822, 575)


def test_a_2019_2020_plan_uses_that_periods_benchmarks(period_2019_2020, cea1920, company_a, national_regulator):
    plan = allocation_import(
        period=period_2019_2020, vintage=cea1920, actor=national_regulator, filename="plan.csv", issue_percent=Decimal("100"),
        stream=io.BytesIO(csv_bytes([[company_a.uscc, "coal_le300", "250000", "7777", "1.03"]])),
    )
    # 250,000 x 0.979 x 1.03 = 252,092.5 ; + 7,777 x 0.126 = 979.902 -> 253,072.402 -> 253,072 ; 100 %: 253,072
    assert (plan.total_computed, plan.total_issue) == (253_072, 253_072)


def test_the_issue_share_of_the_plan_is_applied_to_each_line(period_2021, cea21, company_a, company_b, national_regulator):
    rows = [[company_a.uscc, "coal_gt300", "1000", "0", "1"], [company_b.uscc, "gas", "1000", "1000", "0.5"]]
    plan = allocation_import(period=period_2021, vintage=cea21, stream=io.BytesIO(csv_bytes(rows)), filename="p.csv",
                             actor=national_regulator, issue_percent=Decimal("50"))
    # a: 1,000 x 0.8218 = 821.8 -> 822 ; 50 %: 411
    # b: 1,000 x 0.392 x 0.5 = 196 ; + 1,000 x 0.0557 = 55.7 -> 251.7 -> 252 ; 50 %: 126
    assert sorted(plan.lines.values_list("computed_allocation", "issue_amount")) == [(252, 126), (822, 411)]
    assert (plan.total_computed, plan.total_issue) == (1_074, 537)


# --- bad rows: every row's error, nothing saved ---


@pytest.fixture
def institution_in_shandong(db):
    return OrganizationFactory(name="Shandong Power Trading Centre", kind=Organization.Kind.INSTITUTION, sector="finance",
                               province="37", uscc=make_uscc("37"))


def test_the_import_lists_every_bad_row_and_saves_nothing(
    period_2021, cea21, company_a, company_b, shandong_units, institution_in_shandong, shandong_regulator
):
    s = shandong_units
    unregistered = make_uscc("37", serial=987_654_321)
    rows = [
        [company_a.uscc, "coal_gt300", "1000", "0", "1"],  # 2: good
        [unregistered, "coal_gt300", "1000", "0", "1"],  # 3: unknown USCC
        [s[0].uscc, "coal_gt300", "-1", "0", "1"],  # 4: negative electricity
        [s[1].uscc, "nuclear", "1000", "0", "1"],  # 5: unknown category
        [company_a.uscc, "gas", "500", "0", "1"],  # 6: duplicate of row 2
        [s[2].uscc, "coal_le300", "lots", "12a", "1"],  # 7: electricity and heat not numbers
        [s[3].uscc, "coal_le300", "1000", "0", "2.5"],  # 8: factor above 2
        [s[4].uscc, "coal_le300", "1000", "0", "0"],  # 9: factor zero
        [company_b.uscc, "gas", "1000", "0", "1"],  # 10: a Jiangsu unit, outside Shandong
        [institution_in_shandong.uscc, "gas", "1000", "0", "1"],  # 11: not a key emitting unit
        [s[5].uscc, "coal_le300", "1000", "-5", "NaN"],  # 12: negative heat, factor not a number
        ["", "coal_le300", "1000", "0", "1"],  # 13: no USCC
    ]
    with nothing_saved(), pytest.raises(ImportRefused) as refused:
        allocation_import(period=period_2021, vintage=cea21, stream=io.BytesIO(csv_bytes(rows)), filename="bad.csv",
                          actor=shandong_regulator)
    errors = refused.value.errors
    assert sorted((error.row, error.field) for error in errors) == [
        (2, "uscc"),  # the first row of the duplicate pair (rows 2 and 6) is not valid either
        (3, "uscc"),
        (4, "electricity_mwh"),
        (5, "unit_category"),
        (6, "uscc"),
        (7, "electricity_mwh"),
        (7, "heat_gj"),
        (8, "correction_factor"),
        (9, "correction_factor"),
        (10, "uscc"),
        (11, "uscc"),
        (12, "correction_factor"),
        (12, "heat_gj"),
        (13, "uscc"),
    ]
    messages = {(error.row, error.field): error.message for error in errors}
    assert unregistered in messages[(3, "uscc")]
    assert "negative" in messages[(4, "electricity_mwh")]
    assert "nuclear" in messages[(5, "unit_category")]
    assert "row 2" in messages[(6, "uscc")] and "row 6" in messages[(2, "uscc")]
    assert "outside your province" in messages[(10, "uscc")]
    assert "not a key emitting unit" in messages[(11, "uscc")]
    assert refused.value.code == "import_refused" and refused.value.field == "file"
    assert "12 row(s)" in refused.value.message  # rows 2 to 13 (14 errors: the count is of rows)
    assert not AllocationPlan.objects.exists() and not AllocationLine.objects.exists()
    assert not AuditEvent.objects.filter(action="plan.import").exists()


def test_the_same_file_from_a_national_regulator_has_no_province_error(
    period_2021, cea21, company_a, company_b, national_regulator
):
    rows = [[company_a.uscc, "coal_gt300", "1000", "0", "1"], [company_b.uscc, "gas", "1000", "0", "1"]]
    plan = allocation_import(period=period_2021, vintage=cea21, stream=io.BytesIO(csv_bytes(rows)), filename="p.csv",
                             actor=national_regulator)
    assert plan.lines.count() == 2


def test_bad_rows_in_an_xlsx_are_listed_by_their_sheet_row(period_2021, cea21, company_a, shandong_units, national_regulator):
    workbook = xlsx_bytes([
        [company_a.uscc, "coal_gt300", 1000, 0, 1],  # 2: good
        [shandong_units[0].uscc, "coal_gt300", -1000, 0, 1],  # 3: negative electricity
        [None, None, None, None, None],  # 4: blank, skipped
        [shandong_units[1].uscc, "wind", "abc", 0, 3],  # 5: category, electricity, factor
    ])
    with nothing_saved(), pytest.raises(ImportRefused) as refused:
        allocation_import(period=period_2021, vintage=cea21, stream=io.BytesIO(workbook), filename="bad.xlsx",
                          actor=national_regulator)
    assert sorted((error.row, error.field) for error in refused.value.errors) == [
        (3, "electricity_mwh"), (5, "correction_factor"), (5, "electricity_mwh"), (5, "unit_category"),
    ]


def test_one_bad_row_among_many_good_ones_saves_none_of_them(period_2021, cea21, shandong_units, company_a, national_regulator):
    rows = [[unit.uscc, "coal_gt300", "1000", "0", "1"] for unit in shandong_units]
    rows.append([company_a.uscc, "coal_gt300", "1000", "0", "x"])
    with nothing_saved(), pytest.raises(ImportRefused) as refused:
        allocation_import(period=period_2021, vintage=cea21, stream=io.BytesIO(csv_bytes(rows)), filename="p.csv",
                          actor=national_regulator)
    assert [(error.row, error.field) for error in refused.value.errors] == [(8, "correction_factor")]


def test_a_value_too_large_for_the_plan_line_is_a_row_error(period_2021, cea21, company_a, national_regulator):
    rows = [[company_a.uscc, "coal_gt300", "1e14", "0", "1"]]
    with nothing_saved(), pytest.raises(ImportRefused) as refused:
        allocation_import(period=period_2021, vintage=cea21, stream=io.BytesIO(csv_bytes(rows)), filename="p.csv",
                          actor=national_regulator)
    assert [(error.row, error.field) for error in refused.value.errors] == [(2, "electricity_mwh")]


def test_a_saved_line_holds_the_inputs_its_figures_were_computed_from(period_2021, cea21, company_a, national_regulator):
    # coal > 300 MW 2021: 5 MWh x 0.8218 = 4.109 ; 1,541.9995 GJ x 0.1105 = 170.39094475
    # 4.109 + 170.39094475 = 174.49994475 -> 174 computed from the file ; but heat_gj keeps 3 decimals, so the line
    # stores 1,542.000 GJ, from which the formula gives 174.5 -> 175.
    rows = [[company_a.uscc, "coal_gt300", "5", "1541.9995", "1"]]
    try:
        plan = allocation_import(period=period_2021, vintage=cea21, stream=io.BytesIO(csv_bytes(rows)), filename="p.csv",
                                 actor=national_regulator)
    except ImportRefused as refused:  # refusing the extra decimals is a fix too
        assert [(error.row, error.field) for error in refused.errors] == [(2, "heat_gj")]
        return
    line = plan.lines.get()
    assert line.heat_gj == Decimal("1541.9995")


# --- unreadable files: one clear error, nothing saved ---


def _header_only() -> bytes:
    return csv_bytes([])


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        pytest.param(csv_bytes([["91370000000000001X", "gas", "1", "1", "1"]], header=["uscc", "unit_category", "electricity_mwh",
                                                                                      "correction_factor"]),
                     "plan.csv", "The header lacks heat_gj", id="missing-header-column"),
        pytest.param(b"", "plan.csv", "The file is empty.", id="empty-csv"),
        pytest.param(_header_only(), "plan.csv", "The file has a header but no rows.", id="header-only-csv"),
        pytest.param(csv_bytes([["", "", "", "", ""], []]), "plan.csv", "The file has a header but no rows.", id="blank-rows-only"),
        pytest.param(b"uscc,unit_category,electricity_mwh,heat_gj\n", "plan.txt", "Upload a .csv or .xlsx file.", id="wrong-extension"),
        pytest.param(b"uscc,unit_category,electricity_mwh,heat_gj\n", "plan.xls", "Upload a .csv or .xlsx file.", id="old-excel"),
        pytest.param("uscc,unit_category,electricity_mwh,heat_gj\n华能,gas,1,1\n".encode("utf-16"), "plan.csv",
                     "The CSV file is neither UTF-8 nor GB18030", id="utf16-csv"),
        pytest.param(b"this is not a zip file", "plan.xlsx", "The file is not a readable XLSX workbook.", id="corrupt-xlsx"),
        pytest.param(xlsx_bytes([], header=None), "plan.xlsx", "The file is empty.", id="empty-xlsx"),
        pytest.param(xlsx_bytes([]), "plan.xlsx", "The file has a header but no rows.", id="header-only-xlsx"),
        pytest.param(xlsx_bytes([["x", "gas", 1, 1]], header=HEADER[:2] + HEADER[3:]), "plan.xlsx", "The header lacks electricity_mwh",
                     id="xlsx-missing-column"),
    ],
)
def test_an_unreadable_file_is_refused_with_a_clear_error(period_2021, cea21, national_regulator, content, filename, message):
    with nothing_saved(), pytest.raises(InvalidInput) as refused:
        allocation_import(period=period_2021, vintage=cea21, stream=io.BytesIO(content), filename=filename, actor=national_regulator)
    assert refused.value.message.startswith(message)
    assert refused.value.field == "file" and refused.value.code == "invalid"
    assert not isinstance(refused.value, ImportRefused)


def test_the_import_refuses_a_vintage_the_period_does_not_allocate(period_2021, cea1920, company_a, national_regulator):
    with nothing_saved(), pytest.raises(InvalidInput) as refused:
        allocation_import(period=period_2021, vintage=cea1920, actor=national_regulator, filename="p.csv",
                          stream=io.BytesIO(csv_bytes([[company_a.uscc, "gas", "1", "1", "1"]])))
    assert refused.value.field == "vintage"


@pytest.mark.parametrize("percent", ["0", "-10", "100.01"])
def test_the_import_refuses_an_issue_share_outside_0_to_100(period_2021, cea21, company_a, national_regulator, percent):
    with nothing_saved(), pytest.raises(InvalidInput) as refused:
        allocation_import(period=period_2021, vintage=cea21, actor=national_regulator, filename="p.csv",
                          issue_percent=Decimal(percent), stream=io.BytesIO(csv_bytes([[company_a.uscc, "gas", "1", "1", "1"]])))
    assert refused.value.field == "issue_percent"


@pytest.mark.parametrize("who", ["trader_a", "auditor"])
def test_only_regulators_import(request, period_2021, cea21, company_a, who):
    actor = request.getfixturevalue(who)
    with nothing_saved(), pytest.raises(PermissionDenied) as refused:
        allocation_import(period=period_2021, vintage=cea21, actor=actor, filename="p.csv",
                          stream=io.BytesIO(csv_bytes([[company_a.uscc, "gas", "1", "1", "1"]])))
    assert refused.value.code == "permission_denied"


# --- the management command ---


@pytest.fixture
def scratch_dir():
    # A private directory (not pytest's shared tmp_path root, whose clean-up may touch other runs' folders).
    with tempfile.TemporaryDirectory(prefix="allocation-import-test-") as name:
        yield Path(name)


def run_import_command(path: Path, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_allocations", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_imports_a_csv_and_prints_the_plan_and_its_totals(period_2021, good_units, national_regulator, scratch_dir):
    path = scratch_dir / "plan-2021.csv"
    path.write_bytes(csv_bytes(good_rows(good_units)))
    out, err = run_import_command(path, "--period", "2021", "--user", national_regulator.username)
    plan = AllocationPlan.objects.get()
    assert out.startswith(f"plan {plan.pk} ")
    assert "4 units" in out and "computed 825,363 t" in out and "to issue 577,754 t" in out and "CEA21" in out
    assert err == ""
    assert_plan_is_the_expected_draft(plan, good_units, actor=national_regulator, filename="plan-2021.csv")


def test_the_command_imports_an_xlsx_with_another_issue_share(period_2021, company_a, national_regulator, scratch_dir):
    path = scratch_dir / "plan.xlsx"
    path.write_bytes(xlsx_bytes([[company_a.uscc, "coal_gt300", 1000, 0, 1]]))
    out, _ = run_import_command(path, "--period", "2021", "--user", national_regulator.username, "--issue-percent", "50")
    plan = AllocationPlan.objects.get()
    # 1,000 x 0.8218 = 821.8 -> 822 ; 50 %: 411
    assert (plan.total_computed, plan.total_issue, plan.issue_percent) == (822, 411, Decimal("50"))
    assert out.startswith(f"plan {plan.pk} ") and "computed 822 t" in out and "to issue 411 t" in out


def test_the_command_writes_every_row_error_to_stderr_and_fails(
    period_2021, company_a, company_b, shandong_regulator, scratch_dir
):
    path = scratch_dir / "bad.csv"
    path.write_bytes(csv_bytes([
        [company_a.uscc, "coal_gt300", "1000", "0", "1"],
        [company_b.uscc, "gas", "1000", "0", "1"],  # 3: outside Shandong
        [company_a.uscc, "coal_gt300", "-1", "zero", "1"],  # 4: duplicate, negative, not a number
    ]))
    out = io.StringIO()
    err = io.StringIO()
    with nothing_saved(), pytest.raises(CommandError) as failed:
        call_command("import_allocations", str(path), "--period", "2021", "--user", shandong_regulator.username,
                     stdout=out, stderr=err)
    assert failed.value.returncode != 0
    assert "nothing was saved" in str(failed.value)
    lines = err.getvalue().splitlines()
    assert sorted(line.split(":")[0] + ":" + line.split(":")[1] for line in lines) == [
        "row 2: uscc", "row 3: uscc", "row 4: electricity_mwh", "row 4: heat_gj", "row 4: uscc",
    ]
    assert out.getvalue() == ""


def test_the_command_fails_on_an_unreadable_file(period_2021, national_regulator, scratch_dir):
    path = scratch_dir / "plan.csv"
    path.write_bytes(b"uscc,unit_category\n")
    with nothing_saved(), pytest.raises(CommandError, match="invalid: The header lacks electricity_mwh, heat_gj"):
        run_import_command(path, "--period", "2021", "--user", national_regulator.username)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2030"], "no compliance period 2030"),
        (["--user", "nobody"], "no user nobody"),
        (["--vintage", "CEA22"], "period 2021 has no vintage CEA22"),
        (["--issue-percent", "seventy"], "--issue-percent: .seventy. is not a number"),
        (["--issue-percent", "7e1"], "--issue-percent: .7e1. has an exponent"),
    ],
)
def test_the_command_fails_on_bad_arguments(period_2021, company_a, national_regulator, scratch_dir, args, message):
    path = scratch_dir / "plan.csv"
    path.write_bytes(csv_bytes([[company_a.uscc, "gas", "1", "1", "1"]]))
    defaults = {"--period": "2021", "--user": national_regulator.username}
    given = dict(zip(args[::2], args[1::2], strict=True))
    argv = [item for key, value in {**defaults, **given}.items() for item in (key, value)]
    with nothing_saved(), pytest.raises(CommandError, match=message):
        run_import_command(path, *argv)


def test_the_command_fails_on_a_missing_file(period_2021, national_regulator, scratch_dir):
    with pytest.raises(CommandError, match="no file"):
        run_import_command(scratch_dir / "absent.csv", "--period", "2021", "--user", national_regulator.username)


def test_a_unit_gets_one_pre_allocation_per_period(period_2021, cea21, company_a, national_regulator):
    import_csv(period=period_2021, vintage=cea21, rows=[[company_a.uscc, "gas", "100", "0", "1"]], actor=national_regulator)
    with pytest.raises(ImportRefused) as refused:
        import_csv(period=period_2021, vintage=cea21, rows=[[company_a.uscc, "gas", "100", "0", "1"]], actor=national_regulator)
    assert [(error.row, error.field) for error in refused.value.errors] == [(2, "uscc")]
    assert "already has a pre-allocation" in refused.value.errors[0].message


def test_a_suspended_unit_is_a_row_error(period_2021, cea21, company_a, national_regulator):
    company_a.status = "suspended"
    company_a.save()
    with pytest.raises(ImportRefused) as refused:
        import_csv(period=period_2021, vintage=cea21, rows=[[company_a.uscc, "gas", "100", "0", "1"]], actor=national_regulator)
    assert "not active" in refused.value.errors[0].message


def test_the_command_without_a_user_drafts_the_plan_as_the_system(period_2021, company_a, scratch_dir):
    from core.models import AuditEvent

    path = scratch_dir / "plan.csv"
    path.write_bytes(csv_bytes([[company_a.uscc, "gas", "1000", "0", "1"]]))
    out, _ = run_import_command(path, "--period", "2021")
    plan = AllocationPlan.objects.get()
    assert f"plan {plan.pk}" in out and plan.created_by is None
    assert AuditEvent.objects.get(action="plan.import").actor_label == "system"
