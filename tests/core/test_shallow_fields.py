"""core.serializers.ShallowFieldsSerializer: each instance has fields of its own, bound to it, while
the class's declared fields stay unbound; a field that holds another (a list's child, a nested
serializer) is still deep-copied, so it is bound to the instance's copy."""

from rest_framework import serializers

from core.serializers import ShallowFieldsSerializer


class Level(serializers.Serializer):
    price = serializers.IntegerField()


class Shape(ShallowFieldsSerializer):
    name = serializers.CharField(max_length=5)
    symbol = serializers.CharField(source="instrument.symbol")
    tags = serializers.ListField(child=serializers.IntegerField(min_value=0))
    levels = Level(many=True)


def test_each_instance_binds_fields_of_its_own_and_the_declared_ones_stay_unbound():
    first, second = Shape(), Shape()
    for name in ("name", "symbol", "tags", "levels"):
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first and second.fields[name].parent is second
        assert Shape._declared_fields[name].parent is None
    assert first.fields["symbol"].source_attrs == ["instrument", "symbol"]
    assert first.fields["tags"].child is not second.fields["tags"].child
    assert first.fields["tags"].child.parent is first.fields["tags"]
    assert first.fields["levels"].child is not second.fields["levels"].child


def test_validation_and_errors_are_each_instances_own():
    bad = Shape(data={"name": "toolong", "symbol": "x", "tags": [-1], "levels": [{"price": "x"}]})
    good = Shape(data={"name": "ok", "symbol": "x", "tags": [1, 2], "levels": [{"price": 3}]})
    assert not bad.is_valid() and good.is_valid(), good.errors
    assert set(bad.errors) == {"name", "tags", "levels"}
    assert good.validated_data["tags"] == [1, 2] and good.validated_data["instrument"] == {"symbol": "x"}
    assert Shape(data={"name": "ok", "symbol": "y", "tags": [], "levels": []}).is_valid()
