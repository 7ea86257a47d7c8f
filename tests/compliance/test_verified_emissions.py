"""Verified emissions: `verified_emissions_import` and `manage.py import_verified_emissions --period
2021 FILE`. A file is recorded whole or not at all; every bad row is named."""

import io
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.roles import Role
from allocation.services import period_create
from compliance.models import VerifiedEmission
from compliance.services import verified_emissions_import
from core.errors import DomainError, ImportRefused
from core.models import AuditEvent
from registry.models import Asset
from tests.compliance.helpers import state, verified_csv, verify
from tests.factories import OrganizationFactory, make_uscc, user_with_role


@pytest.fixture
def period(national_regulator):
    return period_create(code="2021", first_year=2021, last_year=2021, vintages=[Asset.objects.get(code="CEA21")],
                         actor=national_regulator)


def import_bytes(period, body: bytes, actor, filename="verified.csv"):
    return verified_emissions_import(period=period, stream=io.BytesIO(body), filename=filename, actor=actor)


def recorded(period):
    return dict(VerifiedEmission.objects.filter(period=period).values_list("organization__uscc", "tonnes"))


# --- a good file ---


def test_a_good_file_records_every_unit_with_who_confirmed_it_and_one_audit_event(
    period, company_a, company_b, national_regulator
):
    count = verify(period, national_regulator, {company_a: 50_000, company_b: 0})

    assert count == 2
    assert recorded(period) == {company_a.uscc: 50_000, company_b.uscc: 0}
    row = VerifiedEmission.objects.get(organization=company_a)
    assert (row.confirmed_by, row.source) == (national_regulator, "verified.csv")
    event = AuditEvent.objects.get(action="verified_emissions.import")
    assert (event.actor, event.object_type, event.object_id) == (national_regulator, "allocation.complianceperiod", str(period.pk))
    assert event.after == {"file": "verified.csv", "units": 2, "tonnes": 50_000}


def test_a_file_with_a_bom_lower_case_usccs_blank_lines_and_thousands_separators_is_read(period, company_a, company_b,
                                                                                         national_regulator):
    body = f'\ufeffUSCC,Verified_Emissions\n{company_a.uscc.lower()},"1,234,567"\n\n{company_b.uscc}, 42 \n'.encode()
    assert import_bytes(period, body, national_regulator) == 2
    assert recorded(period) == {company_a.uscc: 1_234_567, company_b.uscc: 42}


# --- any bad row refuses the whole file ---


@pytest.mark.parametrize(
    "bad_row, message",
    [
        ("{unknown},1000", "row 3: uscc: no registered organization has USCC {unknown}"),
        ("{b},12.5", "row 3: verified_emissions: '12.5' is not a whole number."),
        ("{b},lots", "row 3: verified_emissions: 'lots' is not a whole number."),
        ("{b},-5", "row 3: verified_emissions: '-5' is below the minimum, 0."),
        ("{b},", "row 3: verified_emissions: '' is not a whole number."),
    ],
    ids=["unknown-uscc", "decimal", "not-a-number", "negative", "empty"],
)
def test_one_bad_row_refuses_the_whole_file_and_saves_nothing(period, company_a, company_b, national_regulator,
                                                              bad_row, message):
    unknown = make_uscc("37")  # valid, but no organization has it
    body = f"uscc,verified_emissions\n{company_a.uscc},50000\n" + bad_row.format(a=company_a.uscc, b=company_b.uscc,
                                                                              unknown=unknown) + "\n"
    before = state()
    with pytest.raises(ImportRefused) as refused:
        import_bytes(period, body.encode(), national_regulator)
    assert [str(error) for error in refused.value.errors] == [message.format(unknown=unknown)]
    assert refused.value.code == "import_refused"
    assert state() == before


def test_a_unit_already_recorded_for_the_period_is_a_row_error(period, company_a, company_b, national_regulator):
    verify(period, national_regulator, {company_a: 50_000})
    before = state()
    with pytest.raises(ImportRefused) as refused:
        verify(period, national_regulator, {company_b: 10_000, company_a: 60_000})
    assert [str(error) for error in refused.value.errors] == [f"row 3: uscc: {company_a.name} already has verified emissions for 2021"]
    assert state() == before
    assert recorded(period) == {company_a.uscc: 50_000}


def test_every_bad_row_is_named_not_only_the_first(period, company_a, company_b, national_regulator):
    body = f"uscc,verified_emissions\n{company_a.uscc},x\n{company_b.uscc},-1\n{company_a.uscc},5\n".encode()
    with pytest.raises(ImportRefused) as refused:
        import_bytes(period, body, national_regulator)
    assert [str(error) for error in refused.value.errors] == [
        "row 2: uscc: duplicate unit: also on row 4",  # both rows of the pair: neither is valid
        "row 2: verified_emissions: 'x' is not a whole number.",
        "row 3: verified_emissions: '-1' is below the minimum, 0.",
        "row 4: uscc: duplicate unit: also on row 2",
    ]
    assert not VerifiedEmission.objects.exists()


@pytest.mark.parametrize(
    "body",
    [b"organization,tonnes\n91370000000000001X,5\n", b"verified_emissions,uscc\n", b"", b"uscc,verified_emissions\n",
     "uscc,verified_emissions\n".encode("utf-16")],
    ids=["wrong-header", "swapped-header", "empty-file", "header-only", "not-utf-8"],
)
def test_a_file_without_the_header_or_rows_is_refused_as_invalid(period, national_regulator, body):
    before = state()
    with pytest.raises(DomainError) as refused:
        import_bytes(period, body, national_regulator)
    assert (refused.value.code, refused.value.field) == ("invalid", "file")
    assert state() == before


@pytest.mark.parametrize("tonnes", ["99999999999999999999", "\u00b2"], ids=["beyond-bigint", "superscript-two"])
def test_a_number_the_registry_cannot_store_is_a_row_error(period, company_a, national_regulator, tonnes):
    with pytest.raises(ImportRefused) as refused:
        verify(period, national_regulator, {company_a: tonnes})
    assert str(refused.value.errors[0]).startswith("row 2: verified_emissions:")


# --- who may import ---


def test_a_provincial_regulator_records_its_own_provinces_units(period, company_a, shandong_regulator):
    assert verify(period, shandong_regulator, {company_a: 50_000}) == 1
    assert VerifiedEmission.objects.get().confirmed_by == shandong_regulator


@pytest.mark.parametrize("role", [Role.COMPANY_TRADER, Role.COMPLIANCE_OFFICER, Role.AUDITOR, Role.EXCHANGE_OPERATOR])
def test_only_regulators_may_import_verified_emissions(period, company_a, role):
    user = user_with_role(role, company_a)
    before = state()
    with pytest.raises(DomainError) as refused:
        verify(period, user, {company_a: 50_000})
    assert refused.value.code == "permission_denied"
    assert state() == before


def test_a_provincial_regulator_cannot_record_another_provinces_unit(period, company_a, company_b, shandong_regulator):
    # company_b is in Jiangsu (32); the Shandong (37) regulator's file must be refused whole.
    with pytest.raises(DomainError):
        verify(period, shandong_regulator, {company_a: 50_000, company_b: 60_000})
    assert not VerifiedEmission.objects.exists()


def test_only_key_emitting_units_get_verified_emissions(period, ministry, company_a, national_regulator):
    with pytest.raises(ImportRefused) as refused:
        verify(period, national_regulator, {company_a: 50_000, ministry: 1_000})
    assert str(refused.value.errors[0]).startswith("row 3: uscc:")
    assert not VerifiedEmission.objects.exists()


# --- the command ---


@pytest.fixture
def write_file(tmp_path):
    def write(body: bytes, name="verified-2021.csv"):
        path = tmp_path / name
        path.write_bytes(body)
        return str(path)

    return write


def test_the_command_records_a_good_file_and_says_how_many_units(period, company_a, company_b, write_file):
    out = StringIO()
    call_command("import_verified_emissions", "--period", "2021",
                 write_file(verified_csv({company_a: 50_000, company_b: 70_000})), stdout=out)
    assert out.getvalue().strip() == "recorded verified emissions of 2 units for 2021"
    assert recorded(period) == {company_a.uscc: 50_000, company_b.uscc: 70_000}
    row = VerifiedEmission.objects.get(organization=company_a)
    assert (row.confirmed_by, row.source) == (None, "verified-2021.csv")  # the system, no --user


def test_the_command_with_a_user_records_the_regulator_as_confirming(period, company_a, shandong_regulator, write_file):
    call_command("import_verified_emissions", "--period", "2021", "--user", shandong_regulator.username,
                 write_file(verified_csv({company_a: 50_000})), stdout=StringIO())
    assert VerifiedEmission.objects.get().confirmed_by == shandong_regulator


def test_the_command_writes_every_row_error_to_stderr_and_fails(period, company_a, company_b, write_file):
    path = write_file(f"uscc,verified_emissions\n{company_a.uscc},-3\n{company_b.uscc},1.5\n".encode())
    before = state()
    err = StringIO()
    with pytest.raises(CommandError, match="2 row\\(s\\) have errors; nothing was saved"):
        call_command("import_verified_emissions", "--period", "2021", path, stdout=StringIO(), stderr=err)
    assert err.getvalue().splitlines() == [
        "row 2: verified_emissions: '-3' is below the minimum, 0.",
        "row 3: verified_emissions: '1.5' is not a whole number.",
    ]
    assert state() == before


def test_the_command_refuses_a_bad_header(period, write_file):
    with pytest.raises(CommandError, match="invalid: The header lacks uscc, verified_emissions"):
        call_command("import_verified_emissions", "--period", "2021", write_file(b"a,b\n1,2\n"), stdout=StringIO())


def test_the_command_refuses_a_user_without_the_permission(period, company_a, trader_a, write_file):
    with pytest.raises(CommandError, match="permission_denied"):
        call_command("import_verified_emissions", "--period", "2021", "--user", trader_a.username,
                     write_file(verified_csv({company_a: 50_000})), stdout=StringIO())
    assert not VerifiedEmission.objects.exists()


@pytest.mark.parametrize(
    "args, message",
    [(["--period", "1999"], "no compliance period 1999"), (["--period", "2021", "--user", "nobody"], "no user nobody")],
)
def test_the_command_refuses_an_unknown_period_or_user(period, company_a, write_file, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("import_verified_emissions", *args, write_file(verified_csv({company_a: 1})), stdout=StringIO())
    assert not VerifiedEmission.objects.exists()


def test_the_command_refuses_a_missing_file(period, tmp_path):
    with pytest.raises(CommandError, match="no file"):
        call_command("import_verified_emissions", "--period", "2021", str(tmp_path / "absent.csv"), stdout=StringIO())


def test_a_key_emitting_unit_elsewhere_is_recorded_under_its_own_uscc(period, national_regulator):
    # Guards the USCC lookup: two units, two rows, no mixing.
    first = OrganizationFactory(province="44", uscc=make_uscc("44"))
    second = OrganizationFactory(province="44", uscc=make_uscc("44"))
    verify(period, national_regulator, {first: 1, second: 2})
    assert recorded(period) == {first.uscc: 1, second.uscc: 2}
