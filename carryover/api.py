"""Carry-over API: the statements of the caller's own organizations (approved windows only)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from carryover.selectors import Statement, statements_for


class MarkedOut(serializers.Serializer):
    asset = serializers.CharField(help_text='The vintage, "CEA19-20"')
    quantity = serializers.IntegerField(help_text="Tonnes moved to not_carried")


class StatementOut(serializers.Serializer):
    window = serializers.CharField(source="window.code")
    first_year = serializers.IntegerField(source="window.first_year")
    last_year = serializers.IntegerField(source="window.last_year")
    uscc = serializers.CharField(source="line.organization.uscc")
    organization = serializers.CharField(source="line.organization.name")
    base_tonnes = serializers.IntegerField(source="window.base_tonnes")
    sales_multiplier = serializers.DecimalField(source="window.sales_multiplier", max_digits=6, decimal_places=3)
    sold = serializers.IntegerField(source="line.sold")
    bought = serializers.IntegerField(source="line.bought")
    net_sales = serializers.IntegerField(source="line.net_sales")
    cap = serializers.IntegerField(source="line.cap")
    holding = serializers.IntegerField(source="line.holding_at_approval", help_text="The window's vintages held at approval")
    not_carried = serializers.IntegerField(source="line.not_carried")
    unmarked = serializers.IntegerField(source="line.unmarked",
                                        help_text="Above the cap but reserved, pending or frozen at approval, so not marked")
    approved_at = serializers.DateTimeField(source="window.decided_at")
    marked = serializers.SerializerMethodField()

    @extend_schema_field(MarkedOut(many=True))
    def get_marked(self, statement: Statement) -> list[dict[str, object]]:
        return MarkedOut([{"asset": code, "quantity": quantity} for code, quantity in statement.marked], many=True).data


class CarryOverStatementListApi(generics.GenericAPIView):
    serializer_class = StatementOut
    pagination_class = None
    filter_backends: list[type] = []  # a plain list from a selector

    @extend_schema(responses=StatementOut(many=True),
                   description="The carry-over statements of the caller's own organizations, for approved windows; "
                               "empty for users of no company.")
    def get(self, request: Request) -> Response:
        return Response(StatementOut(statements_for(request.user), many=True).data)
