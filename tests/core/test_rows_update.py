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


@pytest.mark.django_db
def test_rows_insert_inserts_every_row_and_gives_each_instance_its_own_key():
    from django.utils import timezone

    from core.db import rows_insert
    from core.models import AuditEvent

    events = [AuditEvent(created_at=timezone.now(), actor_label=f"writer {n}", action="test.rows_insert", object_type="test", object_id=str(n),
                         before=None, after={"n": n}) for n in range(5)]
    rows_insert(events)
    assert len({event.pk for event in events}) == 5
    for n, event in enumerate(events):
        stored = AuditEvent.objects.get(pk=event.pk)
        assert (stored.actor_label, stored.after) == (f"writer {n}", {"n": n})
    rows_insert([])  # nothing: no statement
