"""Compliance API: surrender (company compliance officers), obligations (own, or all in scope) and
emission reports (filed by officers, verified by the assigned verifier, confirmed by the provincial
regulator; the same services as the pages)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from allocation.models import CompliancePeriod
from compliance import verification
from compliance.models import EmissionReport, Surrender
from compliance.selectors import obligations_visible_to, report_get_for, reports_visible_to
from compliance.services import surrender_create
from core.errors import InvalidInput, PermissionDenied
from core.idempotency import IDEMPOTENCY_KEY_PARAMETER, body_with_key, idempotent
from core.numbers import QuantityField
from core.parsers import JSONParser
from core.schema import IDEMPOTENCY_KEY_MISMATCH
from core.serializers import InputSerializer
from offsets.api import serial_ranges_field


class SurrenderIn(InputSerializer):
    period = serializers.CharField(min_length=1, max_length=9, help_text='"2021"')
    asset = serializers.CharField(min_length=1, max_length=16, help_text='"CEA21" or "CCER"')
    quantity = QuantityField(help_text="Whole tonnes (a JSON integer; 49.5, 1000.0 and 4.9e1 are refused)")
    blocks = serial_ranges_field("surrender", "the oldest eligible first")
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


class UnitObligationOut(serializers.Serializer):
    """One unit's part of the company's obligation."""

    code = serializers.CharField()
    sector = serializers.CharField()
    category = serializers.CharField()
    allocated = serializers.IntegerField()
    verified_emissions = serializers.IntegerField(allow_null=True)
    obligation = serializers.IntegerField()


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
    units = UnitObligationOut(many=True, help_text="The company's units: the obligation is their sum")


class SurrenderCreateApi(generics.GenericAPIView):
    serializer_class = SurrenderOut

    @extend_schema(request=SurrenderIn, responses={201: SurrenderOut, 200: SurrenderOut, **IDEMPOTENCY_KEY_MISMATCH},
                   parameters=[IDEMPOTENCY_KEY_PARAMETER], examples=[OpenApiExample(
                       "A surrender", request_only=True,
                       value={"period": "2021", "asset": "CEA21", "quantity": 1, "client_request_id": "example-surrender-1"},
                   )])
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = SurrenderIn(data=body_with_key(request, "client_request_id"))
        incoming.is_valid(raise_exception=True)
        surrender, created = surrender_create(user=request.user, **incoming.validated_data)
        return Response(SurrenderOut(surrender).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class ObligationListApi(generics.GenericAPIView):
    serializer_class = ObligationOut
    pagination_class = None
    filter_backends: list[type] = []  # a plain list from a selector: nothing for django-filter to inspect

    @extend_schema(parameters=[OpenApiParameter("period", {"type": "string", "minLength": 1, "maxLength": 9},
                                                required=True, description='A compliance period\'s code, "2021"',
                                                examples=[OpenApiExample("2021", value="2021")])],
                   responses=ObligationOut(many=True))
    def get(self, request: Request) -> Response:
        if not request.user.has_perm("compliance.view_obligation"):
            raise PermissionDenied(_("Your role does not see obligations."))
        code = request.query_params.get("period", "")
        period = CompliancePeriod.objects.filter(code=code).first()
        if period is None:
            raise InvalidInput(_("No compliance period %(period)s.") % {"period": repr(code)}, field="period")
        return Response(ObligationOut(obligations_visible_to(request.user, period), many=True).data)


# --- emission reports ---


@extend_schema_field(OpenApiTypes.BINARY)
class UploadField(serializers.FileField):
    """A file sent as a part of a multipart body (the schema's binary string, not a URL)."""


class EmissionReportIn(InputSerializer):
    period = serializers.CharField(min_length=1, max_length=9, help_text='"2021"')
    unit = serializers.CharField(required=False, default="", allow_blank=True, max_length=32,
                                 help_text="The unit's code, e.g. U1: required when the company has several units (one report per unit)")
    emissions = QuantityField(help_text="Reported emissions, whole tCO2e")
    attachment = UploadField(help_text="The report: PDF, XLSX or CSV (recognised by content), at most 10 MB")


class EmissionReportOut(serializers.ModelSerializer):
    period = serializers.CharField(source="period.code")
    uscc = serializers.CharField(source="organization.uscc")
    organization = serializers.CharField(source="organization.name")
    unit = serializers.CharField(source="unit.code")

    class Meta:
        model = EmissionReport
        fields = ["id", "period", "uscc", "organization", "unit", "status", "emissions", "attachment_name", "attachment_kind",
                  "attachment_size", "attachment_sha256", "filed_at", "verified_emissions", "verified_at",
                  "objection_due", "objected_at", "objection_reason", "decision_due", "decision", "decided_at",
                  "confirmed_at"]


class VerifyIn(InputSerializer):
    verified_emissions = QuantityField(help_text="Whole tCO2e")
    note = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)


class ObjectionIn(InputSerializer):
    reason = serializers.CharField(min_length=1, max_length=4000)


class DecisionIn(InputSerializer):
    decision = serializers.ChoiceField(choices=EmissionReport.Decision.values)
    corrected_emissions = QuantityField(required=False, allow_null=True, default=None,
                                                   help_text="Required when the objection is upheld")
    note = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)


def _period(code: str) -> CompliancePeriod:
    period = CompliancePeriod.objects.filter(code=code).first()
    if period is None:
        raise InvalidInput(_("No compliance period %(period)s.") % {"period": repr(code)}, field="period")
    return period


class EmissionReportListApi(generics.GenericAPIView):
    serializer_class = EmissionReportOut
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self) -> Any:
        reports = reports_visible_to(self.request.user).order_by("-id")
        code = self.request.query_params.get("period")
        return reports.filter(period__code=code) if code else reports

    @extend_schema(parameters=[OpenApiParameter("period", str, required=False, description='"2021"')],
                   responses=EmissionReportOut(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(EmissionReportOut(page, many=True).data)

    @extend_schema(request={"multipart/form-data": EmissionReportIn}, responses={201: EmissionReportOut},
                   parameters=[IDEMPOTENCY_KEY_PARAMETER])
    def post(self, request: Request) -> Response:
        return idempotent(request, lambda: self._file(request))

    def _file(self, request: Request) -> Response:
        incoming = EmissionReportIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        report = verification.emission_report_file(user=request.user, period=_period(data["period"]), unit=data["unit"],
                                                   emissions=data["emissions"], attachment=data["attachment"])
        return Response(EmissionReportOut(report).data, status=status.HTTP_201_CREATED)


class EmissionReportDetailApi(generics.GenericAPIView):
    serializer_class = EmissionReportOut

    def get(self, request: Request, report_id: int) -> Response:
        return Response(EmissionReportOut(report_get_for(request.user, report_id)).data)


class _ReportActionApi(generics.GenericAPIView):
    """POST to a report's step: who may take it is checked first (`may`: someone who may not gets its
    403 whatever the body), then the body is parsed by `incoming`; the step is one service."""

    serializer_class = EmissionReportOut
    parser_classes = [JSONParser, FormParser]
    incoming: type[serializers.Serializer] | None = None
    may: Any = None  # (user, report) -> None, or a DomainError

    def act(self, report: EmissionReport, data: dict[str, Any]) -> EmissionReport:
        raise NotImplementedError

    def post(self, request: Request, report_id: int) -> Response:
        return idempotent(request, lambda: self._step(request, report_id))

    def _step(self, request: Request, report_id: int) -> Response:
        report = report_get_for(request.user, report_id)
        self.may(request.user, report)
        data: dict[str, Any] = {}
        if self.incoming is not None:
            parsed = self.incoming(data=request.data)
            parsed.is_valid(raise_exception=True)
            data = dict(parsed.validated_data)
        return Response(EmissionReportOut(self.act(report, data)).data)


@extend_schema(request=VerifyIn, responses=EmissionReportOut, parameters=[IDEMPOTENCY_KEY_PARAMETER])
class EmissionReportVerifyApi(_ReportActionApi):
    may = staticmethod(verification.verifier_may_verify)
    incoming = VerifyIn

    def act(self, report: EmissionReport, data: dict[str, Any]) -> EmissionReport:
        return verification.emission_report_verify(user=self.request.user, report=report, **data)


@extend_schema(request=None, responses=EmissionReportOut, parameters=[IDEMPOTENCY_KEY_PARAMETER])
class EmissionReportConfirmApi(_ReportActionApi):
    may = staticmethod(verification.regulator_may_decide)

    def act(self, report: EmissionReport, data: dict[str, Any]) -> EmissionReport:
        return verification.emission_report_confirm(user=self.request.user, report=report)


@extend_schema(request=ObjectionIn, responses=EmissionReportOut, parameters=[IDEMPOTENCY_KEY_PARAMETER])
class EmissionReportObjectApi(_ReportActionApi):
    may = staticmethod(verification.officer_may_object)
    incoming = ObjectionIn

    def act(self, report: EmissionReport, data: dict[str, Any]) -> EmissionReport:
        return verification.emission_report_object(user=self.request.user, report=report, **data)


@extend_schema(request=DecisionIn, responses=EmissionReportOut, parameters=[IDEMPOTENCY_KEY_PARAMETER])
class EmissionReportDecideApi(_ReportActionApi):
    may = staticmethod(verification.regulator_may_decide)
    incoming = DecisionIn

    def act(self, report: EmissionReport, data: dict[str, Any]) -> EmissionReport:
        return verification.emission_report_decide(user=self.request.user, report=report, **data)
