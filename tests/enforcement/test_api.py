"""The read-only decisions API: a company reads its own (its enforcement history), a regulator those
within its province, with amounts as CNY strings; a filter outside its choices is a 400."""

from enforcement.services import decision_propose
from tests.compliance.helpers import api_as, officer_of
from tests.enforcement.conftest import FINE_LOW
from tests.enforcement.test_decisions import BASIS


def test_a_company_reads_its_own_decisions_only(closed, company_a, company_b, national_regulator):
    decision = decision_propose(actor=national_regulator, kind="non_surrender_fine", organization=company_b, period=closed,
                                legal_basis=BASIS, amount=FINE_LOW)
    body = api_as(officer_of(company_b)).get("/api/v1/enforcement/decisions/").json()
    assert [d["reference"] for d in body["results"]] == [decision.reference]
    [row] = body["results"]
    assert (row["kind"], row["status"], row["amount"], row["range_low"]) == ("non_surrender_fine", "proposed", "8257800.00", FINE_LOW)
    other = api_as(officer_of(company_a))
    assert other.get("/api/v1/enforcement/decisions/").json()["results"] == []
    assert other.get(f"/api/v1/enforcement/decisions/{decision.pk}/").status_code == 404


def test_a_provincial_regulator_reads_its_province_and_filters_by_status(closed, company_b, national_regulator,
                                                                          shandong_regulator, jiangsu_regulator):
    decision_propose(actor=national_regulator, kind="production_halt", organization=company_b, period=closed, legal_basis=BASIS)
    assert api_as(shandong_regulator).get("/api/v1/enforcement/decisions/").json()["results"] == []
    jiangsu = api_as(jiangsu_regulator)
    assert len(jiangsu.get("/api/v1/enforcement/decisions/?status=proposed").json()["results"]) == 1
    assert jiangsu.get("/api/v1/enforcement/decisions/?status=approved").json()["results"] == []
    refused = jiangsu.get("/api/v1/enforcement/decisions/?status=bogus")
    assert refused.status_code == 400 and refused.json()["field"] == "status"
