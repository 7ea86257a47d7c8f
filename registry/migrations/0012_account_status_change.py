"""Account closings become account status changes: freezing and unfreezing an account are proposed
by one regulator and decided by another too. The closings proposed so far keep their rows, as
`close` changes."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("registry", "0011_account_closure"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="accountclosure", name="account_closure_one_proposed"),
        migrations.RenameModel(old_name="AccountClosure", new_name="AccountStatusChange"),
        migrations.AddField(
            model_name="accountstatuschange",
            name="action",
            field=models.CharField(choices=[("freeze", "Freeze"), ("unfreeze", "Unfreeze"), ("close", "Close")], default="close",
                                   max_length=10, verbose_name="action"),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="accountstatuschange",
            name="status",
            field=models.CharField(choices=[("proposed", "Proposed, awaiting a second regulator"), ("approved", "Approved and done"),
                                            ("rejected", "Rejected")], default="proposed", max_length=10, verbose_name="status"),
        ),
        migrations.AlterField(
            model_name="accountstatuschange",
            name="account",
            field=models.ForeignKey(on_delete=models.deletion.PROTECT, related_name="status_changes", to="registry.account",
                                    verbose_name="account"),
        ),
        migrations.AlterModelOptions(
            name="accountstatuschange",
            options={"ordering": ["-id"], "verbose_name": "account status change", "verbose_name_plural": "account status changes"},
        ),
        migrations.AddConstraint(
            model_name="accountstatuschange",
            constraint=models.UniqueConstraint(condition=models.Q(("status", "proposed")), fields=("account",),
                                               name="account_status_change_one_proposed"),
        ),
    ]
