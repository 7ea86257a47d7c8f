"""core.audit.audit_record_many: the events audit_record would write, in one INSERT."""

import pytest
from django.db import transaction

from core.audit import audit_record, audit_record_many
from core.models import AuditEvent
from tests.factories import OrganizationFactory


def test_one_event_per_object_like_audit_record(db, national_regulator):
    units = [OrganizationFactory(with_accounts=False) for _ in range(3)]
    with transaction.atomic():
        single = audit_record(actor=national_regulator, action="x.one", obj=units[0], after={"uscc": units[0].uscc})
        assert audit_record_many(actor=national_regulator, action="x.many", objects=units,
                                 after=lambda o: {"uscc": o.uscc}) == 3
    many = list(AuditEvent.objects.filter(action="x.many").order_by("id"))
    fields = ("actor_id", "actor_label", "object_type", "after")
    assert [getattr(many[0], f) for f in fields] == [getattr(AuditEvent.objects.get(pk=single.pk), f) for f in fields]
    assert [(e.object_id, e.after["uscc"]) for e in many] == [(str(u.pk), u.uscc) for u in units]
    assert all(e.created_at for e in many)


def test_the_system_is_the_actor_of_a_job(db):
    unit = OrganizationFactory(with_accounts=False)
    with transaction.atomic():
        audit_record_many(actor=None, action="x.job", objects=[unit])
    assert AuditEvent.objects.get(action="x.job").actor_label == "system"


@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError):
        audit_record_many(actor=None, action="x", objects=[])
