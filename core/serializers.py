"""The base of the API's input serializers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers


class InputSerializer(serializers.Serializer):
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
