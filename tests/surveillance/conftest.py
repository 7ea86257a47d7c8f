"""The trading tests' companies and funding (companies A, B and C with cash and CEA21)."""

from tests.trading.conftest import company_c, funded, funded3, trader_c  # noqa: F401 - fixtures
