"""Offset registry API: voluntary cancellation with a certificate (any holder with the right), the
serial blocks the user's organization holds, and a certificate's public record."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from core.idempotency import IDEMPOTENCY_KEY_PARAMETER, body_with_key
from core.numbers import QuantityField
from core.schema import IDEMPOTENCY_KEY_MISMATCH
from core.serializers import InputSerializer
from offsets import selectors, services
from offsets.models import BlockMovement, Certificate, SerialBlock
from registry.models import Account


def serial_ranges_field(doing: str, otherwise: str) -> serializers.ListField:
    """CCER serial ranges a holder chooses: [[first, last], ...]."""
    return serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=10**15), min_length=2, max_length=2),
        required=False, allow_null=True, max_length=100,  # (100 ranges: a form-encoded body stays under the field limit)
        help_text=f"CCER only: the serial ranges to {doing}, [[first, last], ...], summing to the quantity; omitted: {otherwise}",
    )


class CancellationIn(InputSerializer):
    asset = serializers.CharField(min_length=1, max_length=16, help_text='"CCER" or an allowance vintage, "CEA21"')
    quantity = QuantityField(help_text="Whole tonnes (a JSON integer)")
    purpose = serializers.CharField(min_length=1, max_length=500, help_text="What the cancellation offsets")
    beneficiary = serializers.CharField(max_length=200, default="", help_text="On whose behalf (optional)")
    blocks = serial_ranges_field("cancel", "the oldest first")
    client_request_id = serializers.CharField(
        max_length=64, default="",
        help_text="Your unique id: repeating it returns the same certificate. Required, here or as the Idempotency-Key header.",
    )


class RangeOut(serializers.ModelSerializer):
    project = serializers.CharField(source="issuance.project.identifier")
    vintage = serializers.IntegerField(source="issuance.vintage")
    quantity = serializers.IntegerField()

    class Meta:
        model = BlockMovement
        fields = ["project", "vintage", "first_serial", "last_serial", "quantity"]


class CertificateOut(serializers.ModelSerializer):
    organization = serializers.CharField(source="organization.name")
    asset = serializers.CharField(source="asset.code")
    ranges = serializers.SerializerMethodField()
    verification_url = serializers.SerializerMethodField()

    class Meta:
        model = Certificate
        fields = ["number", "organization", "asset", "quantity", "purpose", "beneficiary", "created_at", "ranges", "verification_url"]

    @extend_schema_field(RangeOut(many=True))
    def get_ranges(self, certificate: Certificate) -> list[dict[str, Any]]:
        return RangeOut(selectors.certificate_ranges(certificate), many=True).data  # type: ignore[return-value]

    @extend_schema_field(serializers.URLField())
    def get_verification_url(self, certificate: Certificate) -> str:
        path = reverse("offsets-certificate", args=[certificate.number])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class BlockOut(serializers.ModelSerializer):
    project = serializers.CharField(source="issuance.project.identifier")
    vintage = serializers.IntegerField(source="issuance.vintage")
    asset = serializers.CharField(source="asset.code")
    quantity = serializers.IntegerField()

    class Meta:
        model = SerialBlock
        fields = ["project", "vintage", "asset", "first_serial", "last_serial", "quantity"]


class CancellationCreateApi(generics.GenericAPIView):
    serializer_class = CertificateOut

    @extend_schema(request=CancellationIn, responses={201: CertificateOut, 200: CertificateOut, **IDEMPOTENCY_KEY_MISMATCH},
                   parameters=[IDEMPOTENCY_KEY_PARAMETER], examples=[OpenApiExample(
                       "A cancellation", request_only=True,
                       value={"asset": "CCER", "quantity": 10, "purpose": "Offsetting our 2026 conference",
                              "client_request_id": "example-cancellation-1"},
                   )])
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = CancellationIn(data=body_with_key(request, "client_request_id"))
        incoming.is_valid(raise_exception=True)
        certificate, created = services.cancellation_create(user=request.user, **incoming.validated_data)
        return Response(CertificateOut(certificate, context={"request": request}).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class CertificateDetailApi(generics.GenericAPIView):
    """A certificate's public record (anyone may verify it)."""

    serializer_class = CertificateOut
    permission_classes = [AllowAny]

    def get(self, request: Request, number: str) -> Response:
        return Response(CertificateOut(selectors.certificate_get(number), context={"request": request}).data)


class BlockListApi(generics.GenericAPIView):
    """The serial blocks held by the user's organization's holding account, oldest first."""

    serializer_class = BlockOut
    pagination_class = None
    filter_backends: list[type] = []

    @extend_schema(responses=BlockOut(many=True))
    def get(self, request: Request) -> Response:
        organization = services.holder_unit(request.user)
        holding = Account.objects.filter(organization=organization, kind=Account.Kind.HOLDING).first()
        blocks = selectors.blocks_held(holding) if holding else SerialBlock.objects.none()
        return Response(BlockOut(blocks, many=True).data)
