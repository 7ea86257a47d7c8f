"""Profile (name, email, language), password change, all audited."""

from core.models import AuditEvent
from tests.auth import login


def test_the_profile_shows_my_organization(client, trader_a, company_a):
    login(client, trader_a)
    page = client.get("/profile/").content.decode()
    assert company_a.name in page and company_a.uscc in page and "Company trader" in page  # the role in words


def test_saving_the_profile_updates_and_audits_it(client, trader_a):
    login(client, trader_a)
    response = client.post("/profile/", {"first_name": " Li ", "last_name": "Wei", "email": "li.wei@example.cn", "language": "zh-hans"})
    assert response.status_code == 302
    trader_a.refresh_from_db()
    assert (trader_a.first_name, trader_a.last_name, trader_a.email, trader_a.language) == ("Li", "Wei", "li.wei@example.cn", "zh-hans")
    event = AuditEvent.objects.get(action="user.profile_update")
    assert event.actor == trader_a and event.after["language"] == "zh-hans"
    assert response.cookies["django_language"].value == "zh-hans"


def test_a_bad_email_is_shown_and_nothing_saved(client, trader_a):
    login(client, trader_a)
    response = client.post("/profile/", {"first_name": "Li", "email": "not-an-email", "language": "xx"})
    assert response.status_code == 200
    trader_a.refresh_from_db()
    assert trader_a.first_name == "" and not AuditEvent.objects.filter(action="user.profile_update").exists()


def test_saving_unchanged_details_writes_nothing(client, trader_a):
    login(client, trader_a)
    client.post("/profile/", {"first_name": "", "last_name": "", "email": "", "language": ""})
    assert not AuditEvent.objects.filter(action="user.profile_update").exists()


def test_the_password_change_checks_the_old_one_and_the_rules(client, trader_a):
    login(client, trader_a)
    wrong = client.post("/profile/password/", {"old_password": "nope", "new_password1": "Xk29-plover-marsh", "new_password2": "Xk29-plover-marsh"})
    assert wrong.status_code == 200 and "The current password is not right." in wrong.content.decode()
    weak = client.post("/profile/password/", {"old_password": "correct-horse-battery", "new_password1": "12345678", "new_password2": "12345678"})
    assert weak.status_code == 200 and 'id="id_new_password1_error"' in weak.content.decode()
    differ = client.post("/profile/password/", {"old_password": "correct-horse-battery", "new_password1": "Xk29-plover-marsh", "new_password2": "other"})
    assert differ.status_code == 200
    trader_a.refresh_from_db()
    assert trader_a.check_password("correct-horse-battery")

    done = client.post("/profile/password/", {"old_password": "correct-horse-battery", "new_password1": "Xk29-plover-marsh", "new_password2": "Xk29-plover-marsh"})
    assert done.status_code == 302
    trader_a.refresh_from_db()
    assert trader_a.check_password("Xk29-plover-marsh")
    assert client.get("/profile/").status_code == 200  # this session stays signed in
    event = AuditEvent.objects.get(action="user.password_change")
    assert event.actor == trader_a and "Xk29" not in str(event.after) + str(event.before)
