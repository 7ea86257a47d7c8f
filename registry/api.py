"""Read-only ledger API: a user sees only the accounts its role and organization allow."""

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response

from registry.models import Account, Balance, Transfer
from registry.selectors import account_get_for, account_transfers, accounts_visible_to
from registry.serializers import AccountOut, TransferOut

_BALANCES = Prefetch("balances", queryset=Balance.objects.select_related("asset").order_by("asset__kind", "asset__code"))


class AccountListApi(generics.ListAPIView):
    serializer_class = AccountOut
    filterset_fields = ["kind", "status"]

    def get_queryset(self) -> QuerySet[Account]:
        return accounts_visible_to(self.request.user).prefetch_related(_BALANCES)


class AccountDetailApi(generics.GenericAPIView):
    serializer_class = AccountOut

    def get(self, request: Request, number: str) -> Response:
        account = account_get_for(request.user, number)
        return Response(AccountOut(account).data)


class AccountTransferListApi(generics.ListAPIView):
    serializer_class = TransferOut
    filterset_fields = ["kind"]

    @extend_schema(summary="The account's statement: every transfer in or out, newest first")
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Transfer]:
        if getattr(self, "swagger_fake_view", False):
            return Transfer.objects.none()
        return account_transfers(account_get_for(self.request.user, self.kwargs["number"]))
