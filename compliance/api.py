"""Compliance API: surrender (company compliance officers) and obligations (own, or all in scope)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from allocation.models import CompliancePeriod
from compliance.models import Surrender
from compliance.selectors import obligations_visible_to
from compliance.services import surrender_create
from core.errors import InvalidInput, PermissionDenied
from core.idempotency import IDEMPOTENCY_KEY_PARAMETER, body_with_key


class SurrenderIn(serializers.Serializer):
    period = serializers.CharField(max_length=9, help_text='"2021"')
    asset = serializers.CharField(max_length=16, help_text='"CEA21" or "CCER"')
    quantity = serializers.IntegerField(help_text="Whole tonnes")
    client_request_id = serializers.CharField(
        max_length=64, default="",
        help_text="Your unique id: repeating it returns the same surrender. Required, here or as the Idempotency-Key header.",
    )


class SurrenderOut(serializers.ModelSerializer):
    period = serializers.CharField(source="period.code")
    asset = serializers.CharField(source="asset.code")

    class Meta:
        model = Surrender
        fields = ["id", "period", "asset", "quantity", "created_at"]


class ObligationOut(serializers.Serializer):
    uscc = serializers.CharField(source="organization.uscc")
    organization = serializers.CharField(source="organization.name")
    period = serializers.CharField(source="period.code")
    allocated = serializers.IntegerField()
    verified_emissions = serializers.IntegerField(allow_null=True)
    obligation = serializers.IntegerField()
    surrendered_allowances = serializers.IntegerField()
    surrendered_offsets = serializers.IntegerField()
    shortfall = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["open", "A", "B", "C"])


class SurrenderCreateApi(generics.GenericAPIView):
    serializer_class = SurrenderOut

    @extend_schema(request=SurrenderIn, responses={201: SurrenderOut, 200: SurrenderOut},
                   parameters=[IDEMPOTENCY_KEY_PARAMETER])
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = SurrenderIn(data=body_with_key(request, "client_request_id"))
        incoming.is_valid(raise_exception=True)
        surrender, created = surrender_create(user=request.user, **incoming.validated_data)
        return Response(SurrenderOut(surrender).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class ObligationListApi(generics.GenericAPIView):
    serializer_class = ObligationOut
    pagination_class = None
    filter_backends: list[type] = []  # a plain list from a selector: nothing for django-filter to inspect

    @extend_schema(parameters=[OpenApiParameter("period", str, required=True, description='"2021"')],
                   responses=ObligationOut(many=True))
    def get(self, request: Request) -> Response:
        if not request.user.has_perm("compliance.view_obligation"):
            raise PermissionDenied("Your role does not see obligations.")
        code = request.query_params.get("period", "")
        period = CompliancePeriod.objects.filter(code=code).first()
        if period is None:
            raise InvalidInput(f"No compliance period {code!r}.", field="period")
        return Response(ObligationOut(obligations_visible_to(request.user, period), many=True).data)
