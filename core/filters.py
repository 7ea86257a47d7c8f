"""Filtering that refuses what it cannot use (the API's filter backend). django-filter refuses
`?status=bogus` (400 `invalid_choice`) but takes `?status=` as no filter at all, answering a question
the client did not ask; the schema declares the parameter as an enum, which the empty value is not. An
empty value of a choice filter is refused as any other value outside its choices."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django_filters import ChoiceFilter
from django_filters.rest_framework import DjangoFilterBackend, FilterSet


class StrictFilterSet(FilterSet):
    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name, choice_filter in self.filters.items():
            if isinstance(choice_filter, ChoiceFilter) and name in self.data and self.data.get(name) == "":
                message = self.form.fields[name].error_messages["invalid_choice"]  # Django's, translated
                self.form.add_error(name, ValidationError(message, code="invalid_choice", params={"value": '""'}))
                valid = False
        return valid


class StrictFilterBackend(DjangoFilterBackend):
    filterset_base = StrictFilterSet
