from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from registry.models import Account, Balance, Transfer


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string", "example": "1250.00"}]})
class AmountField(serializers.Field):
    """Tonnes as integers, CNY as a string with two decimals (the asset says which)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        kwargs.setdefault("source", "*")
        self.amount_attribute = kwargs.pop("attribute")
        super().__init__(**kwargs)

    def to_representation(self, instance: Any) -> int | str:
        amount = getattr(instance, self.amount_attribute)
        return amount if instance.asset.decimals == 0 else instance.asset.format(amount)


class BalanceOut(serializers.ModelSerializer):
    asset = serializers.CharField(source="asset.code")
    available = AmountField(attribute="available")
    reserved = AmountField(attribute="reserved")
    pending = AmountField(attribute="pending")
    frozen = AmountField(attribute="frozen")
    not_carried = AmountField(attribute="not_carried")

    class Meta:
        model = Balance
        fields = ["asset", "available", "reserved", "pending", "frozen", "not_carried"]


class AccountOut(serializers.ModelSerializer):
    # System accounts belong to no organization: null.
    organization = serializers.CharField(source="organization.name", default=None, allow_null=True)
    uscc = serializers.CharField(source="organization.uscc", default=None, allow_null=True)
    balances = serializers.SerializerMethodField()

    class Meta:
        model = Account
        fields = ["number", "name", "kind", "status", "organization", "uscc", "balances"]

    @extend_schema_field(BalanceOut(many=True))
    def get_balances(self, account: Account) -> list[dict[str, Any]]:
        return BalanceOut(account.balances.all(), many=True).data  # type: ignore[return-value]


class TransferOut(serializers.ModelSerializer):
    asset = serializers.CharField(source="asset.code")
    amount = AmountField(attribute="amount")
    # A deposit comes from outside the registry (no source account), a withdrawal leaves it (no destination).
    source = serializers.CharField(source="source.number", default=None, allow_null=True)
    destination = serializers.CharField(source="destination.number", default=None, allow_null=True)

    class Meta:
        model = Transfer
        fields = [
            "id", "created_at", "kind", "asset", "amount", "source", "source_bucket",
            "destination", "destination_bucket", "reference", "memo",
        ]
