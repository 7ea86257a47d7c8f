"""The restore drill on a small database (README: Backups and recovery), end to end and for real: a
PostgreSQL of the test's own archiving its WAL, the platform's data made through its own services
(seed_demo, orders that trade and settle, seals that publish their heads), a base backup taken with
scripts/base-backup.sh, more data, a restore point, more data again; then `manage.py restore_drill`
restores to the point into another fresh cluster and checks the copy. The first data must be there,
the data after the point must not. Both private clusters are stopped and removed, even on failure.

Nothing here touches the shared PostgreSQL server: its configuration (archive_mode) cannot change
without a restart, and other test runs use it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from deploy.backup import Cluster, archive_command, owned_directory, pg_bindir

ROOT = Path(settings.BASE_DIR)
BINDIR = pg_bindir()
needs_postgresql_programs = pytest.mark.skipif(BINDIR is None, reason="PostgreSQL's programs (initdb, pg_ctl, pg_basebackup) are not installed")

# Orders that cross (trader001 buys what trader002 sells at the reference price: each pair is a trade),
# their settlement, then a seal, which publishes its head on commit.
TRADES = """
from accounts.models import User
from registry.seal import ledger_seal
from trading.models import Instrument
from trading.services import order_place
from trading.settlement import trades_settle_all
price = '%.2f' % (Instrument.objects.get(symbol='CEA21').reference_price / 100)
buyer, seller = User.objects.get(username='trader001'), User.objects.get(username='trader002')
for n in range({count}):
    order_place(user=seller, instrument='CEA21', side='sell', price=price, quantity=10, client_order_id='{tag}-s%d' % n)
    order_place(user=buyer, instrument='CEA21', side='buy', price=price, quantity=10, client_order_id='{tag}-b%d' % n)
trades_settle_all()  # what the settlement sweep does for trades whose task was not queued yet
assert ledger_seal().complete
"""


@pytest.fixture
def workspace() -> Iterator[Path]:
    path = owned_directory(Path(tempfile.mkdtemp(prefix="drill-test-")))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def primary(workspace: Path) -> Iterator[Cluster]:
    """A private PostgreSQL archiving every finished WAL segment into workspace/backups/wal."""
    archive = owned_directory(owned_directory(workspace / "backups") / "wal")
    cluster = Cluster.create(workspace / "primary", bindir=BINDIR, settings={
        "wal_level": "replica", "archive_mode": "on", "archive_command": archive_command(archive), "archive_timeout": "60",
        "fsync": "off",  # a throwaway cluster: durability against power loss is not what is tested
    })
    try:
        cluster.start()
        cluster.sql("CREATE DATABASE carbon")
        yield cluster
    finally:
        cluster.stop()


def manage(environment: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    return result


def state(cluster: Cluster) -> tuple[int, str]:
    """(transfers, the seal head's height and hash) of the primary's platform database, once every
    trade has settled."""
    transfers, trades, unsettled, head = cluster.sql(
        "SELECT (SELECT count(*) FROM registry_transfer), (SELECT count(*) FROM trading_trade),"
        " (SELECT count(*) FROM trading_trade WHERE settled_at IS NULL),"
        " (SELECT height || ' ' || block_hash FROM registry_sealblock ORDER BY height DESC LIMIT 1)", database="carbon").split("\t")
    assert int(trades) > 0 and int(unsettled) == 0, (trades, unsettled)
    return int(transfers), head


def test_the_drill_refuses_a_folder_without_base_backups(tmp_path, monkeypatch):
    monkeypatch.delenv("BACKUP_DIR", raising=False)
    with pytest.raises(CommandError, match=f"restore failed: no base backup in {tmp_path / 'base'}"):
        call_command("restore_drill", "--backup-dir", str(tmp_path))
    with pytest.raises(CommandError, match="give --backup-dir or set BACKUP_DIR"):
        call_command("restore_drill")


@needs_postgresql_programs
def test_the_drill_restores_to_a_point_between_two_batches_and_proves_the_copy(primary, workspace):
    backups, published = workspace / "backups", workspace / "published"
    environment = {
        **{name: value for name, value in os.environ.items() if name != "REDIS_URL"},  # tasks in-process
        "DATABASE_URL": primary.url("carbon"), "SEAL_PUBLISH_DIR": str(published), "MARKET_HOURS": "always",
        "MATCHER_INLINE": "true", "SECRET_KEY": "restore-drill-test-secret-key", "BACKUP_DIR": str(backups),
    }
    manage(environment, "migrate", "--noinput")
    manage(environment, "seed_demo", "--companies", "2")
    manage(environment, "shell", "-c", TRADES.format(count=3, tag="before-backup"))
    at_backup = state(primary)

    # The same script as the compose service and cron, as the archive's owner.
    subprocess.run(
        ["runuser", "-u", "postgres", "--"] * (os.geteuid() == 0) + ["env", f"BACKUP_DIR={backups}", f"PG_BINDIR={BINDIR}",
         "PGHOST=127.0.0.1", f"PGPORT={primary.port}", "PGUSER=postgres", "bash", str(ROOT / "scripts/base-backup.sh")],
        check=True, capture_output=True, text=True,
    )
    manage(environment, "shell", "-c", TRADES.format(count=2, tag="after-backup"))  # replayed from the archive
    between = state(primary)
    primary.sql("SELECT pg_create_restore_point('drill-between')")
    manage(environment, "shell", "-c", TRADES.format(count=2, tag="after-point"))  # must not come back
    after = state(primary)
    primary.sql("SELECT pg_switch_wal()")  # archive the segment holding the point and what followed
    assert at_backup[0] < between[0] < after[0] and len({at_backup[1], between[1], after[1]}) == 3

    result = manage(environment, "restore_drill", "--target-name", "drill-between", check=False)
    report = json.loads(result.stdout)
    assert result.returncode == 0, result.stderr
    assert report["ok"] and report["check_ledger"]["ok"] and report["verify_seal_chain"]["ok"]
    assert "published heads OK: signatures verified" in "\n".join(report["verify_seal_chain"]["output"])
    # Everything up to the point, nothing after it: the transfers and the seal head as they were there.
    assert report["transfers"] == between[0]
    height, head_hash = between[1].split()
    assert report["restored_head"] == {"height": int(height), "head_hash": head_hash}
    assert (report["published_head"]["height"], report["published_head"]["head_hash"]) == (int(height), head_hash)
    assert report["head_matches_published"]
    assert report["rto_seconds"] > 0 and report["rpo"]["archive_mode"] == "on"
    assert report["rpo"]["archive_timeout_seconds"] == 60 and report["rpo"]["failed_archives"] == 0
    assert not list(Path(tempfile.gettempdir()).glob("restore-drill-*/data"))  # the copy is gone

    # A published file changed after signing fails the drill (the copy cannot be shown to match it).
    day_file = sorted(published.glob("seal-heads-*.json"))[-1]
    day_file.write_bytes(day_file.read_bytes().replace(b'"height": ', b'"height": 1', 1))
    result = manage(environment, "restore_drill", "--target-name", "drill-between", check=False)
    report = json.loads(result.stdout)
    assert result.returncode == 1 and not report["ok"] and not report["verify_seal_chain"]["ok"]
    assert "does not match" in "\n".join(report["verify_seal_chain"]["output"])
