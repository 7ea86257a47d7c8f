import pytest
from django.core.exceptions import ValidationError

from accounts.services import organization_create
from accounts.validators import validate_uscc
from core.errors import AlreadyExists, InvalidUSCC

VALID = ["91110000600037341L", "91350100M000100Y43", "11100000000013127D"]


@pytest.mark.parametrize("code", VALID)
def test_it_accepts_valid_codes(code):
    validate_uscc(code)


@pytest.mark.parametrize(
    "code, reason",
    [
        ("91110000600037341M", "checksum"),  # wrong check character
        ("91110000600037341", "length"),  # 17 characters
        ("91110000600037341LX", "length"),  # 19 characters
        ("9111000060003734IL", "format"),  # I is not in the alphabet
        ("A1110000600037341L", "format"),  # region part must be digits
        ("91110000 600037341L", "upper-case"),  # spaces: valid once compacted, refused as written
        ("91110000600037341l", "upper-case"),
    ],
)
def test_it_refuses_invalid_codes(code, reason):
    with pytest.raises(ValidationError) as caught:
        validate_uscc(code)
    assert reason in caught.value.messages[0].lower()
    assert caught.value.error_list[0].code == "invalid_uscc"


def test_organization_create_refuses_a_bad_code_with_a_domain_error(db):
    with pytest.raises(InvalidUSCC) as caught:
        organization_create(name="Bad Code Power", uscc="91110000600037341M", kind="key_emitting_unit", actor=None)
    assert caught.value.field == "uscc"
    assert caught.value.code == "invalid_uscc"


def test_organization_create_refuses_a_duplicate_code(db):
    organization_create(name="First Power", uscc=VALID[0], kind="key_emitting_unit", province="11", actor=None)
    with pytest.raises(AlreadyExists) as caught:
        organization_create(name="Second Power", uscc=VALID[0], kind="key_emitting_unit", province="11", actor=None)
    assert caught.value.field == "uscc"


def test_organization_create_writes_an_audit_event(db, national_regulator):
    from core.models import AuditEvent

    organization = organization_create(
        name="Audited Power", uscc=VALID[1], kind="key_emitting_unit", province="35", actor=national_regulator
    )
    event = AuditEvent.objects.get(action="organization.create", object_id=str(organization.pk))
    assert event.actor == national_regulator
    assert event.after["uscc"] == VALID[1]
