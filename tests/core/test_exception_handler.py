from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions

from core.api import exception_handler
from core.errors import DomainError, InsufficientBalance, NonPositiveAmount


def handle(exc):
    return exception_handler(exc, {})


def test_a_domain_error_keeps_its_code_message_field_and_status():
    response = handle(InsufficientBalance("Only 5 t available.", field="quantity"))
    assert response.status_code == 409
    assert response.data == {"code": "insufficient_balance", "message": "Only 5 t available.", "field": "quantity"}


def test_every_domain_error_class_has_a_unique_code():
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    codes = [cls.code for cls in subclasses(DomainError)]
    assert len(codes) == len(set(codes))
    assert NonPositiveAmount().as_dict()["code"] == "non_positive_amount"


def test_a_validation_error_names_the_first_field_and_its_code():
    response = handle(exceptions.ValidationError({"quantity": ["This field is required."]}))
    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert response.data["field"] == "quantity"
    assert response.data["message"] == "This field is required."


def test_a_nested_validation_error_gives_a_dotted_field():
    detail = {"legs": [{"price": [exceptions.ErrorDetail("A valid number is required.", code="invalid")]}]}
    response = handle(exceptions.ValidationError(detail))
    assert response.data["field"] == "legs.price"
    assert response.data["code"] == "invalid"


def test_http404_and_integrity_errors_become_coded_json_not_500():
    assert handle(Http404()).data["code"] == "not_found"
    response = handle(IntegrityError("duplicate key"))
    assert response.status_code == 409 and response.data["code"] == "conflict"


def test_throttling_carries_retry_after():
    response = handle(exceptions.Throttled(wait=7))
    assert response.status_code == 429
    assert response["Retry-After"] == "7"
    assert response.data["code"] == "rate_limited"


def test_a_throttle_wait_under_a_second_is_rounded_up_not_to_zero():
    assert handle(exceptions.Throttled(wait=0.2))["Retry-After"] == "1"
    assert handle(exceptions.Throttled(wait=7.1))["Retry-After"] == "8"
