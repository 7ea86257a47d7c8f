"""The emission report API: POST/GET /api/v1/emission-reports/, a report, and its steps (verify,
objection, decision, confirm), each the same service as the pages, with coded errors."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import encode_multipart

from compliance.models import EmissionReport, VerifiedEmission
from tests.compliance.helpers import CSV, api_as, officer_of

URL = "/api/v1/emission-reports/"


def test_an_officer_files_a_report_through_the_api(period, officer, company_a):
    response = api_as(officer).post(URL, {"period": "2021", "emissions": 70_000,
                                          "attachment": SimpleUploadedFile("e.csv", CSV)}, format="multipart")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["uscc"], body["period"], body["status"], body["emissions"], body["attachment_kind"]) == (
        company_a.uscc, "2021", "filed", 70_000, "csv")
    assert body["verified_emissions"] is None
    again = api_as(officer).post(URL, {"period": "2021", "emissions": 1, "attachment": SimpleUploadedFile("e.csv", CSV)},
                                 format="multipart")
    assert (again.status_code, again.json()["code"], again.json()["field"]) == (409, "report_exists", "period")


def test_a_refused_attachment_is_a_coded_400(period, officer):
    response = api_as(officer).post(URL, {"period": "2021", "emissions": 1,
                                          "attachment": SimpleUploadedFile("e.pdf", b"\x7fELF\x02\x01")}, format="multipart")
    assert (response.status_code, response.json()["code"], response.json()["field"]) == (400, "attachment_type", "attachment")
    assert not EmissionReport.objects.exists()


def test_an_unknown_period_is_a_coded_400(period, officer):
    response = api_as(officer).post(URL, {"period": "1999", "emissions": 1, "attachment": SimpleUploadedFile("e.csv", CSV)},
                                    format="multipart")
    assert (response.status_code, response.json()["code"], response.json()["field"]) == (400, "invalid", "period")


def test_each_sees_the_reports_within_its_scope(report, officer, verifier, shandong_regulator, auditor, company_b,
                                                 exchange_operator):
    for user in (officer, verifier, shandong_regulator, auditor):
        response = api_as(user).get(URL, {"period": "2021"})
        assert [row["id"] for row in response.json()["results"]] == [report.pk], user
    for user in (officer_of(company_b), exchange_operator):
        assert api_as(user).get(URL).json()["results"] == []
        assert api_as(user).get(f"{URL}{report.pk}/").status_code == 404


def test_the_steps_through_the_api(report, officer, verifier, shandong_regulator, company_a, period):
    verified = api_as(verifier).post(f"{URL}{report.pk}/verify/", {"verified_emissions": 68_500}, format="json")
    assert (verified.status_code, verified.json()["status"], verified.json()["verified_emissions"]) == (200, "verified", 68_500)
    objected = api_as(officer).post(f"{URL}{report.pk}/objection/", {"reason": "Too high"}, format="json")
    assert objected.json()["status"] == "objected" and objected.json()["decision_due"]
    early = api_as(shandong_regulator).post(f"{URL}{report.pk}/confirm/")
    assert (early.status_code, early.json()["code"]) == (409, "objection_pending")
    missing = api_as(shandong_regulator).post(f"{URL}{report.pk}/decision/", {"decision": "upheld"}, format="json")
    assert (missing.status_code, missing.json()["field"]) == (400, "corrected_emissions")
    decided = api_as(shandong_regulator).post(f"{URL}{report.pk}/decision/",
                                              {"decision": "upheld", "corrected_emissions": 60_000}, format="json")
    assert (decided.json()["status"], decided.json()["verified_emissions"]) == ("verified", 60_000)
    confirmed = api_as(shandong_regulator).post(f"{URL}{report.pk}/confirm/")
    assert confirmed.json()["status"] == "confirmed"
    assert VerifiedEmission.objects.get(organization=company_a, period=period).tonnes == 60_000


def test_a_verifier_not_assigned_gets_404_and_the_verifier_cannot_confirm(report, verifier, verifier_body):
    from accounts.roles import Role
    from tests.factories import user_with_role

    stranger = user_with_role(Role.VERIFIER, verifier_body)
    assert api_as(stranger).post(f"{URL}{report.pk}/verify/", {"verified_emissions": 1}, format="json").status_code == 404
    api_as(verifier).post(f"{URL}{report.pk}/verify/", {"verified_emissions": 1}, format="json")
    refused = api_as(verifier).post(f"{URL}{report.pk}/confirm/")
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")


def test_confirming_a_filed_report_is_an_invalid_transition(report, shandong_regulator):
    response = api_as(shandong_regulator).post(f"{URL}{report.pk}/confirm/")
    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")


def test_a_step_repeated_with_the_same_idempotency_key_is_answered_once(report, verifier):
    client = api_as(verifier)
    first = client.post(f"{URL}{report.pk}/verify/", {"verified_emissions": 68_500}, format="json",
                        HTTP_IDEMPOTENCY_KEY="verify-1")
    again = client.post(f"{URL}{report.pk}/verify/", {"verified_emissions": 68_500}, format="json",
                        HTTP_IDEMPOTENCY_KEY="verify-1")
    assert (first.status_code, again.status_code, again["Idempotent-Replayed"]) == (200, 200, "true")
    assert again.json() == first.json()


def test_an_attachment_larger_than_the_api_body_limit_is_accepted_up_to_its_own_limit(period, officer, settings):
    big = b"unit,tonnes\n" + b"Unit 1,52000\n" * 20_000  # about 260 KB, over the API's usual 64 KB
    assert len(big) > settings.API_MAX_BODY_SIZE
    response = api_as(officer).post(URL, {"period": "2021", "emissions": 1, "attachment": SimpleUploadedFile("big.csv", big)},
                                    format="multipart")
    assert response.status_code == 201, response.json()
    assert response.json()["attachment_size"] == len(big)


def test_an_attachment_over_its_limit_is_refused_before_it_is_read(period, officer, settings):
    settings.API_UPLOAD_LIMITS = {URL: 4096}
    response = api_as(officer).post(URL, {"period": "2021", "emissions": 1,
                                          "attachment": SimpleUploadedFile("big.csv", b"a,b\n" * 2000)}, format="multipart")
    assert (response.status_code, response.json()["code"]) == (413, "request_too_large")
    assert not EmissionReport.objects.exists()


def test_a_retried_multipart_upload_with_the_same_key_is_replayed(period, officer):
    """A client library makes a new multipart boundary for each attempt: the retry is the same
    request all the same (same fields, same file), so it gets the first answer, not a 409."""
    client = api_as(officer)

    def upload(boundary: str):
        body = encode_multipart(boundary, {"period": "2021", "emissions": 70_000,
                                           "attachment": SimpleUploadedFile("e.csv", CSV)})
        return client.post(URL, body, content_type=f"multipart/form-data; boundary={boundary}",
                           HTTP_IDEMPOTENCY_KEY="file-2021")

    first, retry = upload("first-attempt-boundary"), upload("second-attempt-boundary")
    assert first.status_code == 201, first.json()
    assert (retry.status_code, retry.json()["id"], retry["Idempotent-Replayed"]) == (201, first.json()["id"], "true")
    assert EmissionReport.objects.count() == 1
    other_file = client.post(URL, {"period": "2021", "emissions": 70_000,
                                   "attachment": SimpleUploadedFile("e.csv", CSV + b"B,1\n")},
                             format="multipart", HTTP_IDEMPOTENCY_KEY="file-2021")
    assert (other_file.status_code, other_file.json()["code"]) == (409, "idempotency_conflict")


def test_who_may_take_a_step_is_checked_before_its_body(verified, officer, verifier, shandong_regulator):
    """An officer posting a decision, or a verifier an objection, gets the 403 of the step whatever the
    body (a form's literal 'null' included), never a validation message about a step it may not take."""
    from urllib.parse import urlencode

    url, form = f"{URL}{verified.pk}/", "application/x-www-form-urlencoded"
    null_form = urlencode({"decision": "upheld", "corrected_emissions": "null"})
    decision = api_as(officer).post(f"{url}decision/", null_form, content_type=form)
    assert (decision.status_code, decision.json()["code"]) == (403, "permission_denied")
    objection = api_as(verifier).post(f"{url}objection/", {"reason": ""}, format="json")
    assert objection.status_code == 403
    verify = api_as(shandong_regulator).post(f"{url}verify/", {"verified_emissions": "x"}, format="json")
    assert verify.status_code == 403
    # The one who may still gets the body's coded 400.
    own = api_as(shandong_regulator).post(f"{url}decision/", null_form, content_type=form)
    assert (own.status_code, own.json()["field"]) == (400, "corrected_emissions")
    assert EmissionReport.objects.get(pk=verified.pk).status == "verified"
