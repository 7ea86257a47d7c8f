from django.contrib.auth.models import Group

from accounts.roles import ROLE_PERMISSIONS, Role, roles_sync
from accounts.selectors import organizations_visible_to
from tests.factories import OrganizationFactory, make_uscc


def test_every_role_is_a_group_with_exactly_its_permissions(db):
    for role, names in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        have = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert have == set(names), role


def test_roles_sync_repairs_a_changed_group(db):
    group = Group.objects.get(name=Role.AUDITOR)
    group.permissions.clear()
    roles_sync()
    assert group.permissions.count() == len(ROLE_PERMISSIONS[Role.AUDITOR])


def test_a_provincial_regulator_sees_only_its_province(db, shandong_regulator, company_a, company_b):
    visible = set(organizations_visible_to(shandong_regulator))
    assert company_a in visible  # Shandong (37)
    assert company_b not in visible  # Jiangsu (32)


def test_a_company_user_sees_only_its_own_organization(db, trader_a, company_a, company_b):
    assert list(organizations_visible_to(trader_a)) == [company_a]


def test_national_staff_and_auditors_see_everything(db, national_regulator, auditor, company_a, company_b):
    for user in (national_regulator, auditor):
        visible = set(organizations_visible_to(user))
        assert {company_a, company_b} <= visible


def test_a_provincial_regulator_without_a_province_sees_nothing(db, company_a):
    from tests.factories import user_with_role

    bureau = OrganizationFactory(kind="institution", province="", uscc=make_uscc("11"))
    regulator = user_with_role(Role.PROVINCIAL_REGULATOR, bureau)
    assert not organizations_visible_to(regulator).exists()
