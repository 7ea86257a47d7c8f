"""Enforcement API (read-only): the decisions a user may see (a company its own, i.e. its enforcement
history; regulators within their scope; auditors all), with amounts in CNY as strings with two
decimals. Decisions are proposed and decided on the pages, where the second regulator reads them."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from core.money import format_minor_units
from enforcement.models import Decision
from enforcement.selectors import decision_get_for, decisions_visible_to


@extend_schema_field({"type": "string", "nullable": True, "example": "825780000.00"})
class YuanField(serializers.Field):
    """Fen as a CNY string with two decimals; null when the decision has no amount."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: int | None) -> str | None:
        return None if value is None else format_minor_units(value, 2)


class DecisionOut(serializers.ModelSerializer):
    reference = serializers.CharField()
    uscc = serializers.CharField(source="organization.uscc")
    organization = serializers.CharField(source="organization.name")
    period = serializers.CharField(source="period.code")
    allocation_period = serializers.CharField(source="target_period.code", default=None, allow_null=True)
    amount = YuanField(allow_null=True)
    range_low = serializers.IntegerField(allow_null=True, help_text="fen for amounts, t for a forced surrender, percent for a cut")
    range_high = serializers.IntegerField(allow_null=True)
    percent = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)

    class Meta:
        model = Decision
        fields = ["id", "reference", "kind", "status", "uscc", "organization", "period", "case", "legal_basis", "amount",
                  "quantity", "percent", "range_low", "range_high", "individual_name", "allocation_period", "proposed_at",
                  "decided_at", "lifted_at"]


class DecisionListApi(generics.ListAPIView):
    serializer_class = DecisionOut
    filterset_fields = ["status", "kind"]

    def get_queryset(self) -> QuerySet[Decision]:
        if getattr(self, "swagger_fake_view", False):
            return Decision.objects.none()
        return decisions_visible_to(self.request.user).order_by("-id")


class DecisionDetailApi(generics.GenericAPIView):
    serializer_class = DecisionOut

    def get(self, request: Request, decision_id: int) -> Response:
        return Response(DecisionOut(decision_get_for(request.user, decision_id)).data)
