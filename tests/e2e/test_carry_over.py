"""A company sees its carry-over statement in the browser: its cap, its holding and what was not carried
over, by vintage; in English and in Chinese, on a laptop and a phone, with no serious accessibility
violation (axe-core)."""

import pytest
from playwright.sync_api import expect

from carryover.services import carryover_approve, carryover_compute, carryover_submit
from tests.carryover.conftest import closed_periods, give, window  # noqa: F401  (fixtures)
from tests.e2e.axe import serious_violations
from tests.e2e.test_login_and_holdings import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCREENS = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 375, "height": 812}}


@pytest.fixture
def approved(window, company_a, company_b, national_regulator, second_national_regulator):  # noqa: F811
    give(company_a, "CEA19-20", 2_500, national_regulator)
    give(company_a, "CEA22", 9_000, national_regulator)  # 11,500 held against a 10,000 t cap
    give(company_b, "CEA21", 40_000, national_regulator)
    carryover_compute(window=window, actor=national_regulator)
    carryover_submit(window=window, actor=national_regulator, reason="2019-2024 closed")
    carryover_approve(window=window, actor=second_national_regulator, reason="checked")
    return window


def test_a_trader_reads_its_carry_over_statement(browser, live_server, screenshot, approved, trader_a):
    for screen, viewport in SCREENS.items():
        for language, heading in (("en", "Carry-over statements"), ("zh-hans", "配额结转对账单")):
            trader_a.language = "" if language == "en" else language
            trader_a.save(update_fields=["language"])
            page = browser.new_context(viewport=viewport, bypass_csp=True).new_page()  # (to inject axe)
            login(page, live_server, trader_a.username)
            if screen == "laptop":
                page.get_by_role("navigation", name="Main" if language == "en" else "主导航").get_by_role(
                    "link", name="Carry-over" if language == "en" else "配额结转").click()
            else:
                page.goto(f"{live_server.url}/carry-over/")
            expect(page.get_by_role("heading", level=1)).to_have_text(heading)
            section = page.locator("#carry-over-2019-2024")
            expect(section.locator(".cap")).to_contain_text("10,000")
            expect(section.locator(".holding")).to_have_text("11,500")
            expect(section.locator(".not-carried")).to_have_text("1,500")
            # Not cut off by the card on a phone: the figures end inside it.
            cell, card = section.locator(".not-carried").bounding_box(), section.bounding_box()
            assert cell["x"] + cell["width"] <= card["x"] + card["width"], (screen, language, cell, card)
            # The oldest vintage is marked first: all 1,500 t of it from CEA19-20, none of CEA22.
            expect(section.locator("table.marked tbody tr")).to_have_count(1)
            expect(section.locator("table.marked tbody tr")).to_have_text("CEA19-201,500")
            expect(page.get_by_text("Datang Jiangsu")).to_have_count(0)  # company B's statement is not shown
            assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")
            assert serious_violations(page) == [], (screen, language)
            screenshot(page, f"carry-over-{screen}-{language}")
            page.context.close()
