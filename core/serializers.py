"""The bases of the API's serializers."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from rest_framework import serializers


class ShallowFieldsSerializer(serializers.Serializer):
    """A serializer whose plain fields are copied shallowly for each instance. DRF deep-copies every
    declared field for every serializer instance, re-creating it from its arguments: on an order
    POST (its input and its answer) that was about a tenth of the request's CPU. A shallow copy is
    enough for a plain field: the declared fields are never bound themselves, and bind() sets the
    instance's name, parent, label and source on the copy. A field holding another field or
    serializer (a list's child, a nested serializer) is bound to its own parent, so it is still
    deep-copied."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {name: copy.deepcopy(field) if hasattr(field, "child") or isinstance(field, serializers.BaseSerializer)
                else copy.copy(field) for name, field in self._declared_fields.items()}


class InputSerializer(ShallowFieldsSerializer):
    """A request body whose text fields take text only. DRF's CharField also takes a number (0 becomes
    "0"), which the OpenAPI schema, where such a field is a string, does not allow: a number there is
    refused as DRF refuses a list ("Not a valid string.", code `invalid`)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            errors = {}
            for field in self._writable_fields:
                if isinstance(field, serializers.CharField) and field.field_name in data:
                    value = data[field.field_name]
                    if value is not None and not isinstance(value, str):
                        errors[field.field_name] = [
                            serializers.ErrorDetail(str(field.error_messages["invalid"]), code="invalid")
                        ]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)
