"""English by default, Simplified Chinese by the switcher, the browser or the profile; the compiled
catalogue is committed and matches the .po."""

import gettext
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings

from tests.auth import login

LOCALE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"


def test_english_is_the_default(client, trader_a, funded):
    login(client, trader_a)
    page = client.get("/").content.decode()
    assert '<html lang="en">' in page and "Balances" in page and "Dashboard" in page


def test_the_browsers_chinese_gives_chinese_labels(client, trader_a, funded):
    login(client, trader_a)
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert '<html lang="zh-hans">' in page
    for label in ("概览", "余额", "可用", "委托占用", "今日交易", "履约义务", "注册登记账户", "退出登录"):
        assert label in page, label
    assert "Balances" not in page


def test_the_switcher_sets_the_language(client, trader_a):
    login(client, trader_a)
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/orders/"})
    assert response.status_code == 302 and response.url == "/orders/"
    page = client.get("/orders/").content.decode()
    assert "委托" in page and "交易品种" in page and "筛选" in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Instrument" in client.get("/orders/").content.decode()


def test_the_profiles_language_applies_without_a_cookie(client, trader_a):
    trader_a.language = "zh-hans"
    trader_a.save(update_fields=["language"])
    login(client, trader_a)
    assert "API 令牌" in client.get("/profile/tokens/").content.decode()
    # An explicit choice in the switcher wins over the profile.
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Your tokens" in client.get("/profile/tokens/").content.decode()


def test_the_login_page_in_chinese(client, db):
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "登录" in page and "用户名" in page and "密码" in page


def test_order_statuses_and_sides_are_translated(client, trader_a, traded):
    login(client, trader_a)
    page = client.get("/orders/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    # "Filled" reads as the filled quantity's column does (已成交（吨）), beside 部分成交.
    assert "已成交" in page and "全部成交" not in page and "挂单中" in page and "买入" in page and "卖出" in page


def test_the_compiled_catalogue_holds_every_translated_entry():
    """The .mo is committed (running the site needs no gettext): it must be compiled from the current .po."""
    po = (LOCALE / "django.po").read_text(encoding="utf-8")
    with open(LOCALE / "django.mo", "rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    msgids = re.findall(r'^msgid "(.+)"$', po, flags=re.M)
    assert len(msgids) > 200
    assert not re.search(r"^#,.*fuzzy", po, flags=re.M), "fuzzy entries are left out of the .mo: check and unmark them"
    untranslated = re.findall(r'^msgid "(.+)"\nmsgstr ""\n\n', po, flags=re.M)
    assert untranslated == []
    missing = [msgid for msgid in msgids if msgid.replace('\\"', '"') not in catalogue._catalog
               and not any(isinstance(key, tuple) and key[0] == msgid for key in catalogue._catalog)
               and not any(key.endswith("\x04" + msgid) for key in catalogue._catalog if isinstance(key, str))]
    assert missing == [], "run python manage.py compilemessages and commit the .mo"


def test_the_trading_and_market_pages_in_chinese(client, trader_a, funded):
    login(client, trader_a)
    trade = client.get("/trade/CEA21/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for label in ("委托簿", "下单", "我的未成交委托", "今日涨跌停价"):
        assert label in trade, label
    assert "行情" in client.get("/market/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()


def test_order_entrys_refusals_speak_the_users_language(client, trader_a, funded, cea21):
    """The server's refusal next to the ticket's field, and the API's message, in the request's
    language; the code stays the same."""
    from tests.trading.conftest import api_client

    lower, upper = f"{cea21.lower_limit / 100:.2f}", f"{cea21.upper_limit / 100:.2f}"
    body = {"instrument": "CEA21", "side": "buy", "price": "999.00", "quantity": 10, "client_order_id": "i18n-1"}
    english = api_client(trader_a).post("/api/v1/orders/", body, format="json").json()
    chinese = api_client(trader_a).post("/api/v1/orders/", body, format="json", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").json()
    assert english == {"code": "price_out_of_band", "message": f"Today's limits are {lower} to {upper}.", "field": "price"}
    assert chinese == {"code": "price_out_of_band", "message": f"今日涨跌幅限制为 {lower} 至 {upper}。", "field": "price"}

    login(client, trader_a)
    page = client.post("/trade/CEA21/order/", {"side": "buy", "price": "999.00", "quantity": "10", "client_order_id": "i18n-2"},
                       HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert f"今日涨跌幅限制为 {lower} 至 {upper}。" in page
    page = client.post("/trade/CEA21/order/", {"side": "buy", "price": "54.00", "quantity": "100000", "client_order_id": "i18n-3"},
                       HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert "数量必须在 1 至 99,999 吨之间。" in page


def test_the_javascript_catalogue_carries_the_tickets_checks_in_chinese(client):
    chinese = client.get("/jsi18n/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    english = client.get("/jsi18n/")
    assert chinese.status_code == english.status_code == 200
    catalogue = chinese.content.decode()
    for text in ("今日涨跌幅限制为 %(lower)s 至 %(upper)s。", "数量必须在 %(min)s 至 %(max)s 吨之间。", "请输入价格。"):
        assert json.dumps(text)[1:-1] in catalogue or text in catalogue, text
    assert "今日" not in english.content.decode() and "\\u4eca" not in english.content.decode()


def test_the_profiles_refusals_speak_chinese(client, trader_a):
    login(client, trader_a)
    chinese = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
    wrong = client.post("/profile/password/", {"old_password": "nope", "new_password1": "Xk29-plover-marsh",
                                               "new_password2": "Xk29-plover-marsh"}, **chinese)
    assert wrong.status_code == 200 and "当前密码不正确。" in wrong.content.decode()


class _VisibleText(HTMLParser):
    """What a reader sees or hears of a page: its text and its aria-labels and titles, not its scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        self.hidden += tag in ("script", "style")
        self.parts += [value for name, value in attrs if name in ("aria-label", "title", "placeholder", "alt") and value]

    def handle_endtag(self, tag):
        self.hidden -= tag in ("script", "style")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


# Names and codes that stay as they are in Chinese: instruments and assets, account numbers, API and
# file formats, the language switcher's own "English", and the test's own data (people, companies,
# client order ids).
NOT_WORDS = re.compile(r"CEA\d\d(-\d\d)?|CCER|CNY(?= *\d)|\b[A-Z]{2,4}-[0-9A-Z-]+|\bAPI\b|\bCSV\b|\bREST\b|\bXLSX\b|\bPDF\b|"
                       r"English|user\d+|[ab]-(buy|sell|rests)(-\d)?|[\w ]+ Co\., Ltd\.")


@pytest.mark.parametrize("path", ["/", "/orders/", "/orders/{order}/", "/trades/", "/profile/", "/profile/tokens/",
                                  "/trade/CEA21/", "/trade/CEA21/orders/", "/trade/CEA21/book/", "/market/", "/disclosure/"])
def test_company_and_public_pages_have_no_english_left_in_chinese(client, trader_a, traded, path):
    login(client, trader_a)
    response = client.get(path.format(order=traded.pk), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    reader = _VisibleText()
    reader.feed(response.content.decode())
    left = [text.strip() for text in reader.parts if re.search(r"[A-Za-z]{2,}", NOT_WORDS.sub("", text))]
    assert left == []
