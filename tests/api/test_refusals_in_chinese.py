"""The API's refusals in the caller's language (issue 15, item 10): the same code, and the message in
Chinese to `Accept-Language: zh-hans`, in English otherwise; whichever layer refuses (a selector, a
query parameter, pagination, the idempotency header, the middleware before the locale is set, the 404
handler)."""

from __future__ import annotations

import io
import re

import pytest
from django.utils import translation
from django.utils.translation import gettext_lazy

from allocation.importing import read_rows
from core.errors import ImportRefused, InvalidInput
from core.imports import RowError
from core.numbers import NumberRefused, parse_quantity
from tests.trading.conftest import api_client

CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
HAN = re.compile(r"[\u4e00-\u9fff]")


def _quantity_refusal(value: str) -> str:
    with pytest.raises(NumberRefused) as refused:
        parse_quantity(value, field="verified_emissions", minimum=0)
    return refused.value.detail


def refusal(client, method: str, url: str, **extra):
    response = getattr(client, method)(url, format="json", **extra) if method == "post" else getattr(client, method)(url, **extra)
    assert 400 <= response.status_code < 500, (url, response.status_code, response.content[:300])
    return response.status_code, response.json()


CASES = [
    ("get", "/api/v1/accounts/NOPE/", {}, "No such account.", "没有该账户。"),
    ("get", "/api/v1/instruments/NOPE/", {}, "No instrument 'NOPE'.", "没有交易品种 'NOPE'。"),
    ("get", "/api/v1/instruments/CEA21/book/?depth=0", {}, "depth must be 1 to 50.", "depth 必须在 1 至 50 之间。"),
    ("get", "/api/v1/instruments/CEA21/book/?depth=ten", {}, "depth must be a whole number.", "depth 必须是整数。"),
    ("get", "/api/v1/instruments/CEA21/candles/?interval=7m", {}, "interval must be 1d, 1m or 5m.", "interval 必须是 1d、1m 或 5m。"),
    ("get", "/api/v1/orders/?limit=0", {}, "limit must be 1 to 1000.", "limit 必须在 1 至 1000 之间。"),
    ("get", "/api/v1/orders/?offset=-1", {}, "offset must be at least 0.", "offset 不能小于 0。"),
    ("get", "/api/v1/orders/999999999/", {}, "No such order.", "没有该委托。"),
    ("get", "/api/v1/obligations/?period=1999", {}, "Your role does not see obligations.", "您的角色无权查看履约义务。"),
    ("post", "/api/v1/orders/", {"HTTP_IDEMPOTENCY_KEY": "k" * 65},
     "The Idempotency-Key header must be 1 to 64 printable ASCII characters.", "Idempotency-Key 请求头必须是 1 至 64 个可打印的 ASCII 字符。"),
    ("get", "/api/v1/accounts/%00/", {}, "The URL contains a NUL character.", "URL 中含有 NUL 字符。"),
    ("get", "/api/v1/no-such-endpoint/", {}, "Not found.", "未找到。"),
]


@pytest.mark.parametrize("method, url, extra, english, chinese", CASES, ids=[f"{case[0]} {case[1]}" for case in CASES])
def test_a_refusal_answers_in_the_callers_language(trader_a, method, url, extra, english, chinese):
    client = api_client(trader_a)
    status, in_english = refusal(client, method, url, **extra)
    status_zh, in_chinese = refusal(client, method, url, **extra, **CHINESE)
    assert (status_zh, in_chinese["code"], in_chinese["field"]) == (status, in_english["code"], in_english["field"])
    assert in_english["message"] == english
    assert in_chinese["message"] == chinese


def test_a_body_over_the_limit_is_refused_in_chinese(db, trader_a, settings):
    settings.API_MAX_BODY_SIZE = 100
    response = api_client(trader_a).post("/api/v1/orders/", {"client_order_id": "x" * 200}, format="json", **CHINESE)
    assert response.status_code == 413
    assert re.fullmatch(r"请求内容为 \d+ 字节；API 最多接受 100 字节。", response.json()["message"])


def test_a_lazy_message_is_translated_when_the_refusal_is_made():
    """A module-level message (gettext_lazy) becomes a plain string in the language active when the
    refusal is made, so the exception handler and the pages never see a lazy object."""
    message = gettext_lazy("No such account.")
    with translation.override("zh-hans"):
        refused = InvalidInput(message)
    assert refused.message == "没有该账户。" and type(refused.message) is str
    with translation.override("en"):
        assert InvalidInput(message).message == "No such account."
        assert refused.message == "没有该账户。"


def test_import_refusals_and_row_errors_speak_chinese():
    with translation.override("zh-hans"):
        with pytest.raises(InvalidInput) as header:
            read_rows(io.BytesIO(b"uscc,unit_category\n1,gas\n"), "plan.csv")
        assert header.value.message == "表头缺少 electricity_mwh, heat_gj；应为 uscc,unit_category,electricity_mwh,heat_gj,correction_factor。"
        assert str(RowError(3, "verified_emissions", _quantity_refusal("x"))) == "第 3 行：verified_emissions：'x' 不是整数。"
        assert ImportRefused(["a", "b"]).message == "有 2 行存在错误；未保存任何内容。"
    with translation.override("en"):
        assert str(RowError(3, "verified_emissions", _quantity_refusal("x"))) == "row 3: verified_emissions: 'x' is not a whole number."
        assert not HAN.search(ImportRefused(["a"]).message)
