"""axe-core on every company and public page, in English and in Chinese, on a laptop and a phone
(375 px, where wide tables used to scroll inside their cards): no serious or critical violation."""

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from demo.management.commands.seed_demo import Command as SeedDemo
from tests.asgi import asgi_server, password_for_server
from tests.auth import browser_login
from tests.e2e.axe import serious_violations
from tests.factories import user_with_role
from tests.offsets.helpers import ccer_issue
from tests.trading.conftest import fund, place

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCREENS = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 375, "height": 812}}
LANGUAGES = {"en": "en-GB", "zh-hans": "zh-CN"}
PUBLIC = ["/market/", "/market/?symbol=CEA22", "/disclosure/", "/login/", "/offsets/", "/offsets/serials/?serial=1"]
TRADER = ["/", "/orders/", "/orders/{order}/", "/trades/", "/profile/", "/profile/tokens/", "/trade/CEA21/", "/trade/CEA21/blocks/",
          "/auctions/",
          "/market/", "/disclosure/"]
OFFICER = ["/", "/compliance/", "/profile/", "/offsets/mine/"]


@pytest.fixture
def market(company_a, company_b, trader_a, trader_b, national_regulator, exchange_operator):
    SeedDemo()._price_history()
    fund(company_a, regulator=national_regulator, operator=exchange_operator)
    fund(company_b, regulator=national_regulator, operator=exchange_operator)
    ccer_issue(company_a, 500, national_regulator)  # (the offset pages show a project, blocks, a serial's path)
    place(trader_b, "sell", "54.50", 100, client_order_id="b-1")
    place(trader_a, "buy", "55.00", 100, client_order_id="a-1")
    return place(trader_a, "buy", "52.00", 20, client_order_id="a-rests")


def _audit(browser, url, paths, user=None):
    problems = []
    for language, locale in LANGUAGES.items():
        for screen, viewport in SCREENS.items():
            if user is not None:  # the profile's language (the login page itself is in the browser's)
                user.language = "" if language == "en" else language
                user.save(update_fields=["language"])
                locale = "en-GB"
            page = browser.new_context(viewport=viewport, locale=locale, bypass_csp=True).new_page()  # (to inject axe)
            if user is not None:
                browser_login(page, url, user.username, "correct-horse-battery")
            for path in paths:
                page.goto(url + path)
                expect(page.locator("html")).to_have_attribute("lang", language)
                if page.locator("#chart").count():
                    expect(page.locator("#chart canvas").first).to_be_visible()
                problems += [f"{path} [{language}, {screen}] {line}" for line in serious_violations(page)]
            page.context.close()
    return problems


def test_public_pages(browser, market):
    with asgi_server() as url:
        problems = _audit(browser, url, PUBLIC)
    assert not problems, "\n".join(problems)


def test_a_traders_pages(browser, market, trader_a):
    password_for_server(trader_a)
    with asgi_server() as url:
        problems = _audit(browser, url, [path.format(order=market.pk) for path in TRADER], trader_a)
    assert not problems, "\n".join(problems)


def test_a_compliance_officers_pages(browser, market, company_a):
    officer = user_with_role(Role.COMPLIANCE_OFFICER, company_a)
    password_for_server(officer)
    with asgi_server() as url:
        problems = _audit(browser, url, OFFICER, officer)
    assert not problems, "\n".join(problems)
