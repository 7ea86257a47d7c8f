"""Voluntary cancellation with a certificate (service, PDF, public verification page)."""

import pytest
from django.test import Client

from core.errors import DomainError
from core.models import AuditEvent
from offsets.models import Certificate, SerialBlock
from offsets.services import cancellation_create
from registry.models import Account, Asset, Balance
from tests.offsets.helpers import ccer_issue
from tests.registry.helpers import allowances_give


def cancelled_blocks():
    return list(SerialBlock.objects.filter(account__kind=Account.Kind.CANCELLATION).order_by("first_serial")
                .values_list("first_serial", "last_serial"))


@pytest.fixture
def issued(company_a, holding_a, national_regulator):
    return ccer_issue(company_a, 1_000, national_regulator)


def test_a_holder_cancels_chosen_serials_and_gets_a_numbered_certificate(issued, officer_a, holding_a, ccer):
    certificate, created = cancellation_create(user=officer_a, asset="CCER", quantity=100, purpose="Offsetting the 2026 shareholder meeting",
                                               beneficiary="Huaneng AGM", blocks=[[401, 450], [601, 650]], client_request_id="agm")
    assert created and certificate.number.endswith("-000001")
    assert cancelled_blocks() == [(401, 450), (601, 650)]
    # The holding keeps the rest, split around the chosen ranges.
    assert list(SerialBlock.objects.filter(account=holding_a).order_by("first_serial").values_list("first_serial", "last_serial")) == [
        (1, 400), (451, 600), (651, 1_000)]
    assert Balance.objects.get(account=holding_a, asset=ccer).available == 900
    event = AuditEvent.objects.get(action="offsets.cancellation")
    assert event.after["number"] == certificate.number and event.after["ranges"] == [[401, 450], [601, 650]]
    # The same request again returns the same certificate and cancels nothing more.
    again, created_again = cancellation_create(user=officer_a, asset="CCER", quantity=100, purpose="Offsetting the 2026 shareholder meeting",
                                               beneficiary="Huaneng AGM", blocks=[[401, 450], [601, 650]], client_request_id="agm")
    assert again == certificate and not created_again
    second, _ = cancellation_create(user=officer_a, asset="CCER", quantity=10, purpose="A product", client_request_id="product")
    assert second.number.endswith("-000002")
    assert cancelled_blocks() == [(1, 10), (401, 450), (601, 650)]  # oldest first without a choice


@pytest.mark.parametrize("changes, code, field", [
    ({"quantity": 0}, "invalid", "quantity"),
    ({"purpose": "  "}, "invalid", "purpose"),
    ({"asset": "CNY"}, "invalid", "asset"),
    ({"asset": "XYZ"}, "invalid", "asset"),
    ({"blocks": [[5, 1]]}, "invalid", "blocks"),
    ({"blocks": [[1_001, 1_010]]}, "serials_unavailable", "blocks"),
    ({"blocks": [[1, 5]]}, "serials_unavailable", "blocks"),  # 5 t chosen, 10 t to cancel
    ({"quantity": 1_001}, "insufficient_balance", "amount"),
    ({"asset": "CEA21", "blocks": [[1, 10]]}, "invalid", "blocks"),
])
def test_bad_cancellations_are_refused_and_change_nothing(issued, officer_a, changes, code, field):
    request = {"user": officer_a, "asset": "CCER", "quantity": 10, "purpose": "An event", "client_request_id": "x", **changes}
    with pytest.raises(DomainError) as refused:
        cancellation_create(**request)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert not Certificate.objects.exists() and cancelled_blocks() == []


def test_only_a_user_with_the_right_may_cancel(issued, trader_only):
    with pytest.raises(DomainError) as refused:
        cancellation_create(user=trader_only, asset="CCER", quantity=1, purpose="x", client_request_id="t")
    assert refused.value.code == "not_eligible"


def test_the_certificate_pdf_and_its_public_verification_page(issued, officer_a, company_a):
    certificate, _ = cancellation_create(user=officer_a, asset="CCER", quantity=25, purpose="Carbon-neutral conference",
                                         client_request_id="conf")
    anonymous = Client()
    page = anonymous.get(f"/offsets/certificates/{certificate.number}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert certificate.number in text and "Carbon-neutral conference" in text and company_a.name in text
    assert "000000000001–000000000025" in text
    assert anonymous.get("/offsets/certificates/VC-1999-000001/").status_code == 404

    owner = Client()
    owner.force_login(officer_a)
    pdf = owner.get(f"/offsets/certificates/{certificate.number}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    # Another organization's user does not get the PDF (the public page is enough for them).
    stranger = Client()
    from tests.compliance.helpers import officer_of
    from tests.factories import OrganizationFactory, make_uscc

    stranger.force_login(officer_of(OrganizationFactory(name="Other Co", province="44", uscc=make_uscc("44"))))
    assert stranger.get(f"/offsets/certificates/{certificate.number}/pdf/").status_code == 404


def test_allowances_are_cancelled_too_without_serials(db, holding_a, officer_a, national_regulator):
    cea = Asset.objects.get(code="CEA21")
    allowances_give(account=holding_a, asset=cea, amount=500, regulator=national_regulator)
    certificate, _ = cancellation_create(user=officer_a, asset="CEA21", quantity=200, purpose="Voluntary ambition", client_request_id="cea")
    assert certificate.transfer.destination.kind == Account.Kind.CANCELLATION
    assert Balance.objects.get(account=holding_a, asset=cea).available == 300
    assert not SerialBlock.objects.filter(account__kind=Account.Kind.CANCELLATION).exists()
