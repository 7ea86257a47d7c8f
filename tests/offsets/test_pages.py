"""The offset registry's pages: in Chinese with no English left, refusals next to their field, a
project's figures."""

import datetime as dt
import re

import pytest

from accounts.models import Organization
from offsets import services
from offsets.models import Issuance, Project
from tests.auth import login
from tests.web.test_i18n import NOT_WORDS, _VisibleText


@pytest.fixture
def registry_in_chinese(company_a, holding_a, officer_a, national_regulator, second_national_regulator):
    methodology = services.methodology_create(code="CCER-14-002-V01", name="红树林营造", sector="林业", actor=national_regulator)
    project = services.project_register(
        identifier="CCER-2024-0007", name="湛江红树林修复", owner=company_a, province="44", methodology=methodology,
        crediting_start=dt.date(2024, 1, 1), crediting_end=dt.date(2043, 12, 31), registration_date=dt.date(2024, 3, 1),
        actor=national_regulator)
    issuance = services.issuance_propose(project=project, vintage=2024, monitoring_start=dt.date(2024, 1, 1),
                                         monitoring_end=dt.date(2024, 12, 31), quantity=500, actor=national_regulator)
    services.issuance_approve(issuance=issuance, actor=second_national_regulator)
    services.issuance_propose(project=project, vintage=2025, monitoring_start=dt.date(2025, 1, 1),
                              monitoring_end=dt.date(2025, 12, 31), quantity=300, actor=national_regulator)
    certificate, _ = services.cancellation_create(user=officer_a, asset="CCER", quantity=40, purpose="年度股东大会碳中和",
                                                  client_request_id="zh")
    return certificate


def english_left(client, path):
    """Visible text with English words, leaving out data: organizations' names (the owner choices) and URLs."""
    response = client.get(path, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200, path
    reader = _VisibleText()
    reader.feed(response.content.decode())
    names = [str(organization) for organization in Organization.objects.all()]
    data = re.compile("|".join([r"https?://\S+", *map(re.escape, names)]))
    return [text.strip() for text in reader.parts if re.search(r"[A-Za-z]{2,}", NOT_WORDS.sub("", data.sub("", text)))]


@pytest.mark.parametrize("path", ["/offsets/", "/offsets/projects/CCER-2024-0007/", "/offsets/serials/?serial=7",
                                  "/offsets/certificates/{number}/", "/offsets/mine/"])
def test_the_company_and_public_pages_in_chinese(client, registry_in_chinese, officer_a, path):
    login(client, officer_a)
    assert english_left(client, path.format(number=registry_in_chinese.number)) == []


def test_the_regulators_page_in_chinese(client, registry_in_chinese, second_national_regulator):
    login(client, second_national_regulator)
    assert english_left(client, "/offsets/regulator/") == []


def test_a_project_page_counts_issued_cancelled_and_remaining(client, registry_in_chinese):
    page = client.get("/offsets/projects/CCER-2024-0007/").content.decode()
    assert re.search(r'class="num issued">500<', page) and re.search(r'class="num cancelled">40<', page)
    assert re.search(r'class="num remaining">460<', page)


def test_a_refused_proposal_is_shown_next_to_its_field_and_saves_nothing(client, registry_in_chinese, national_regulator):
    login(client, national_regulator)
    project = Project.objects.get()
    before = Issuance.objects.count()
    response = client.post("/offsets/regulator/issuances/", {
        "issuance-project": project.pk, "issuance-vintage": "2019", "issuance-monitoring_start": "2025-01-01",
        "issuance-monitoring_end": "2025-12-31", "issuance-quantity": "10"})
    assert response.status_code == 400
    assert "The vintage must be a year of the monitoring period." in response.content.decode()
    assert Issuance.objects.count() == before


def test_the_maker_cannot_approve_on_the_page(client, registry_in_chinese, national_regulator):
    login(client, national_regulator)
    pending = Issuance.objects.get(status=Issuance.Status.PROPOSED)
    response = client.post(f"/offsets/regulator/issuances/{pending.pk}/approve/", {"reason": ""})
    assert response.status_code == 400
    assert "other than the one who proposed it" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == Issuance.Status.PROPOSED


def test_a_suspended_project_gets_no_issuance(client, registry_in_chinese, national_regulator):
    login(client, national_regulator)
    project = Project.objects.get()
    assert client.post(f"/offsets/regulator/projects/{project.pk}/status/", {"status": "suspended"}).status_code == 302
    project.refresh_from_db()
    assert project.status == Project.Status.SUSPENDED
    response = client.post("/offsets/regulator/issuances/", {
        "issuance-project": project.pk, "issuance-vintage": "2025", "issuance-monitoring_start": "2025-01-01",
        "issuance-monitoring_end": "2025-12-31", "issuance-quantity": "10"})
    assert response.status_code == 400  # (a suspended project is not among the choices)
    assert client.post(f"/offsets/regulator/projects/{project.pk}/status/", {"status": "gone"}).status_code == 400
