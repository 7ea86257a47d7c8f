import pytest

from accounts.models import Organization
from accounts.roles import Role
from registry.models import Account, Asset
from registry.selectors import ledger_verify
from tests.auth import login
from tests.factories import OrganizationFactory, make_uscc, user_with_role


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The audit table refuses TRUNCATE (core.db.no_truncate) except in a test database whose session
    sets carbon.allow_truncate: set it for every connection to the test database, so that
    transactional tests can be flushed."""
    from django.db import connection, connections

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"ALTER DATABASE {connection.ops.quote_name(connection.settings_dict['NAME'])} SET carbon.allow_truncate = 'on'")
            connections.close_all()  # the setting applies to connections opened from now on


@pytest.fixture(autouse=True)
def _market_statistics_read_afresh(settings):
    """A test reads the day's statistics right after its trades: none remembered from before it
    (trading.selectors; tests/trading/test_pages.py checks the remembering itself)."""
    settings.MARKET_STATISTICS_MS = 0


def assert_ledger_conserved() -> None:
    """Every balance equals what its transfers give, no bucket is negative, and every asset is conserved."""
    report = ledger_verify()
    assert report.ok, "ledger invariants broken:\n" + "\n".join(report.problems)


@pytest.fixture(autouse=True)
def _ledger_invariants_hold_after_each_test(request):
    """DESIGN.md: the ledger's invariants hold after every test that moves value. Checked after every
    test that touched the database, so no test can forget it."""
    db_fixtures = [name for name in ("transactional_db", "db") if name in request.fixturenames]
    if not db_fixtures and request.node.get_closest_marker("django_db"):
        db_fixtures = ["_django_db_helper"]  # the database comes from the marker (pytest-django)
    if db_fixtures:
        # Set the database up inside this fixture so that it is torn down only after the check below.
        request.getfixturevalue(db_fixtures[0])
    yield
    from django.db import connection

    # (A test that failed inside a broken transaction has already been reported; don't pile on.)
    if db_fixtures and not request.node.get_closest_marker("ledger_tampered") and not connection.needs_rollback:
        assert_ledger_conserved()


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """Django activates a request's language for the thread (LocaleMiddleware, a user's profile language)
    and leaves it active: a test whose last request was in Chinese would otherwise hand Chinese to the next."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(autouse=True, scope="session")
def _files_in_a_temporary_folder(tmp_path_factory):
    """Uploaded files (emission report attachments) and published seal heads go to folders of this test
    run, never to var/."""
    from django.conf import settings

    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    settings.SEAL_PUBLISH_DIR = tmp_path_factory.mktemp("seal-heads")
    settings.IMPORT_UPLOAD_DIR = tmp_path_factory.mktemp("uploads")  # admin imports' uploads too
    settings.REPORTS_EXPORT_DIR = tmp_path_factory.mktemp("exports")  # and export jobs' files


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _celery_in_process(settings):
    """Tasks run in-process unless a test starts a real worker (which switches this off)."""
    from config.celery import app

    # The configuration is namespaced (CELERY_*): only the namespaced key overrides it.
    app.conf.CELERY_TASK_ALWAYS_EAGER = True
    yield
    app.conf.CELERY_TASK_ALWAYS_EAGER = settings.CELERY_TASK_ALWAYS_EAGER


@pytest.fixture
def company_a(db):
    return OrganizationFactory(name="Huaneng Shandong Power Co., Ltd.", province="37", uscc=make_uscc("37"))


@pytest.fixture
def company_b(db):
    return OrganizationFactory(name="Datang Jiangsu Power Co., Ltd.", province="32", uscc=make_uscc("32"))


@pytest.fixture
def ccer(db):
    return Asset.objects.get(code="CCER")


@pytest.fixture
def holding_a(company_a):
    return Account.objects.get(organization=company_a, kind=Account.Kind.HOLDING)


@pytest.fixture
def holding_b(company_b):
    return Account.objects.get(organization=company_b, kind=Account.Kind.HOLDING)


@pytest.fixture
def trader_a(company_a):
    return user_with_role(Role.COMPANY_TRADER, company_a)


@pytest.fixture
def trader_b(company_b):
    return user_with_role(Role.COMPANY_TRADER, company_b)


@pytest.fixture
def ministry(db):
    return OrganizationFactory(
        name="Ministry of Ecology and Environment", kind=Organization.Kind.INSTITUTION, sector="government", province=""
    )


@pytest.fixture
def national_regulator(ministry):
    return user_with_role(Role.NATIONAL_REGULATOR, ministry)


@pytest.fixture
def second_national_regulator(ministry):
    return user_with_role(Role.NATIONAL_REGULATOR, ministry)


@pytest.fixture
def shandong_regulator(db):
    bureau = OrganizationFactory(
        name="Shandong Department of Ecology and Environment", kind=Organization.Kind.INSTITUTION,
        sector="government", province="37",
    )
    return user_with_role(Role.PROVINCIAL_REGULATOR, bureau)


@pytest.fixture
def exchange_operator(db):
    exchange = OrganizationFactory(
        name="Shanghai Environment and Energy Exchange", kind=Organization.Kind.INSTITUTION, sector="finance", province="31"
    )
    return user_with_role(Role.EXCHANGE_OPERATOR, exchange)


@pytest.fixture
def auditor(db):
    firm = OrganizationFactory(name="Audit Office", kind=Organization.Kind.INSTITUTION, sector="services", province="11")
    return user_with_role(Role.AUDITOR, firm)


@pytest.fixture
def client_for(db):
    """client_for(user): a new test client logged in as `user`, past the second factor when the user's
    role requires it (tests.auth.login). Works for pages, the admin and the API (session)."""
    from django.test import Client
    from rest_framework.test import APIClient

    def make(user, *, api: bool = False, verified: bool | None = None):
        return login(APIClient() if api else Client(), user, verified=verified)

    return make
