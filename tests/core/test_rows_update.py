import pytest

from accounts.models import Organization
from core.db import rows_update


@pytest.mark.django_db
def test_rows_update_writes_the_given_fields_of_the_given_rows_only(company_a, company_b):
    others = list(Organization.objects.exclude(pk__in=[company_a.pk, company_b.pk]).values_list("pk", "name"))
    company_a.name, company_b.name = "Renamed A", "Renamed B"
    company_a.province = "Xinjiang"  # not among the fields written
    rows_update([company_a, company_b], ["name"])

    assert Organization.objects.get(pk=company_a.pk).name == "Renamed A"
    assert Organization.objects.get(pk=company_b.pk).name == "Renamed B"
    assert Organization.objects.get(pk=company_a.pk).province != "Xinjiang"
    assert list(Organization.objects.exclude(pk__in=[company_a.pk, company_b.pk]).values_list("pk", "name")) == others


def test_rows_update_with_nothing_is_a_no_op():
    rows_update([], ["name"])
