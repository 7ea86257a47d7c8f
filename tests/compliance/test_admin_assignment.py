"""Regulators assign verifiers in the admin (Verifier assignments), through verifier_assign."""

from compliance.models import VerifierAssignment
from core.models import AuditEvent
from tests.auth import login

URL = "/admin/compliance/verifierassignment/add/"


def staff(user):
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def test_a_provincial_regulator_assigns_a_verifier_in_the_admin(client, period, company_a, verifier, shandong_regulator):
    login(client, staff(shandong_regulator))
    assert client.get(URL).status_code == 200
    response = client.post(URL, {"period": period.pk, "organization": company_a.pk, "verifier": verifier.pk})
    assert response.status_code == 302
    assignment = VerifierAssignment.objects.get()
    assert (assignment.organization, assignment.verifier, assignment.assigned_by) == (company_a, verifier, shandong_regulator)
    assert AuditEvent.objects.filter(action="verifier.assign", actor=shandong_regulator).count() == 1


def test_an_assignment_outside_the_province_is_refused_with_its_code(client, period, company_b, verifier,
                                                                     shandong_regulator):
    login(client, staff(shandong_regulator))
    response = client.post(URL, {"period": period.pk, "organization": company_b.pk, "verifier": verifier.pk}, follow=True)
    assert response.status_code == 200
    assert "permission_denied: you may assign verifiers only" in response.content.decode().lower()  # the admin capitalises
    assert not VerifierAssignment.objects.exists()


def test_the_list_shows_only_the_regulators_province(client, assigned, period, company_b, verifier, national_regulator,
                                                     shandong_regulator):
    from compliance.verification import verifier_assign

    verifier_assign(period=period, organization=company_b, verifier=verifier, actor=national_regulator)
    login(client, staff(shandong_regulator))
    page = client.get("/admin/compliance/verifierassignment/").content.decode()
    assert company_b.name not in page and "Huaneng Shandong" in page


def test_replacing_the_verifier_after_verification_is_refused_without_a_success_message(client, verified, verifier_body,
                                                                                      shandong_regulator):
    from accounts.roles import Role
    from tests.factories import user_with_role

    other = user_with_role(Role.VERIFIER, verifier_body)
    assignment = VerifierAssignment.objects.get()
    login(client, staff(shandong_regulator))
    response = client.post(f"/admin/compliance/verifierassignment/{assignment.pk}/change/", {"verifier": other.pk},
                           follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert messages == ["invalid_transition: The unit's report is already verified; its verifier stays."]
    assert VerifierAssignment.objects.get().verifier != other


def test_the_verifier_is_replaced_in_the_admin_before_verification(client, assigned, verifier_body, shandong_regulator):
    from accounts.roles import Role
    from tests.factories import user_with_role

    other = user_with_role(Role.VERIFIER, verifier_body)
    login(client, staff(shandong_regulator))
    response = client.post(f"/admin/compliance/verifierassignment/{assigned.pk}/change/", {"verifier": other.pk})
    assert response.status_code == 302
    assert VerifierAssignment.objects.get().verifier == other
    assert AuditEvent.objects.filter(action="verifier.assign").count() == 2
