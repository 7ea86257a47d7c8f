from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Organizations and users")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from accounts.access import access_cache_clear, receivers_connect
        from accounts.roles import roles_sync

        post_migrate.connect(roles_sync, sender=self, dispatch_uid="accounts.roles_sync")
        # (The test runner's flush signals post_migrate too: remembered access goes with the rows.)
        post_migrate.connect(lambda **kwargs: access_cache_clear(), sender=self, dispatch_uid="accounts.access_cache_clear", weak=False)
        receivers_connect()
        # Logins and logouts are audited wherever they happen (the site's login page and the admin's).
        user_logged_in.connect(_login_audit, dispatch_uid="accounts.login_audit")
        user_logged_out.connect(_logout_audit, dispatch_uid="accounts.logout_audit")


def _login_audit(sender, request, user, **kwargs):  # type: ignore[no-untyped-def]
    from accounts.services import session_event_record

    session_event_record(user=user, action="user.login")


def _logout_audit(sender, request, user, **kwargs):  # type: ignore[no-untyped-def]
    from accounts.services import session_event_record

    if user is not None:
        session_event_record(user=user, action="user.logout")
