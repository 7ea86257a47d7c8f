"""Backups and the restore drill (README: Backups and recovery).

What is backed up: PostgreSQL, the only state that matters (Redis and the workers hold nothing that
cannot be found again). The primary archives every finished WAL segment (`archive_command` copies it
into BACKUP_DIR/wal; `archive_timeout` closes a segment at least that often), and
scripts/base-backup.sh takes a base backup (pg_basebackup, tar + gzip, with the WAL it needs) into
BACKUP_DIR/base/<UTC time>/ every night. A base backup plus the archived WAL after it restores the
database to any moment since that backup.

`restore_drill` proves it: it restores the newest base backup (or the newest one before the target)
into a fresh data directory and a PostgreSQL of its own on a free loopback port, replays the archive
to the target (a time, a named restore point, or the end of the archive), then runs the platform's
`check_ledger` and `verify_seal_chain --against` the published seal heads (as of the time it restored
to) on the copy, compares the copy's seal head with the last published one, and reports how long the
restore took (RTO) and how much the primary could lose now (RPO). The copy is removed afterwards.

A private cluster's files belong to the `postgres` user when this runs as root (initdb and postgres
refuse to run as root).
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
OWNER = "postgres"


def pg_bindir(version: str | None = None) -> Path | None:
    """PostgreSQL's programs: PG_BINDIR, else Debian's (or the postgres image's) for `version`, else
    the newest installed. None when there are none."""
    if os.environ.get("PG_BINDIR"):
        candidates = [Path(os.environ["PG_BINDIR"])]
    elif version:
        candidates = [Path(f"/usr/lib/postgresql/{version}/bin")]
    else:
        candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda path: int(path.parent.name), reverse=True)
    return next((path for path in candidates if (path / "initdb").exists()), None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_owner(args: list[str]) -> list[str]:
    return ["runuser", "-u", OWNER, "--", *args] if os.geteuid() == 0 else args


def run_as_owner(args: list[str], **options: Any) -> subprocess.CompletedProcess:
    """Runs a PostgreSQL program as the owner of the clusters; raises with its output when it fails."""
    result = subprocess.run(_as_owner(args), capture_output=True, text=True, **options)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}): {result.stderr.strip() or result.stdout.strip()}")
    return result


def owned_directory(path: Path) -> Path:
    """A directory the clusters' owner can write (mode 0700, as PostgreSQL wants its data directory)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.geteuid() == 0:
        owner = pwd.getpwnam(OWNER)
        os.chown(path, owner.pw_uid, owner.pw_gid)
    return path


def archive_command(archive: Path) -> str:
    """The primary's archive_command: copy a finished WAL segment into the archive, never over one
    already there (PostgreSQL retries until it succeeds, keeping the segment meanwhile)."""
    return f"test ! -f {archive}/%f && cp %p {archive}/%f"


@dataclass
class Cluster:
    """A PostgreSQL of its own: a data directory and a loopback port, started and stopped with pg_ctl."""

    data: Path
    port: int
    bindir: Path
    user: str = "postgres"  # a superuser: the platform's user on a restored copy of the compose database

    @classmethod
    def create(cls, data: Path, *, bindir: Path, settings: dict[str, str]) -> Cluster:
        """initdb (trust on loopback only: a throwaway cluster) with `settings` added to postgresql.conf."""
        owned_directory(data)
        run_as_owner([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                      "--locale=C.UTF-8", "--no-sync"])
        cluster = cls(data=data, port=free_port(), bindir=bindir)
        cluster.configure(settings)
        return cluster

    def configure(self, settings: dict[str, str]) -> None:
        """Adds settings to postgresql.auto.conf (read last: they win over postgresql.conf's)."""
        # Loopback TCP only: no Unix socket (none to clash with the machine's own server, none in a backup).
        local = {"port": str(self.port), "listen_addresses": "127.0.0.1", "unix_socket_directories": ""}
        lines = "".join(f"{name} = '{value}'\n" for name, value in {**local, **settings}.items())
        run_as_owner(["sh", "-c", f"cat >> {self.data}/postgresql.auto.conf"], input=lines)

    def start(self, *, timeout: int = 120) -> None:
        run_as_owner([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", f"{self.data}/server.log",
                      "-w", "-t", str(timeout), "start"])

    def stop(self) -> None:
        subprocess.run(_as_owner([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"]),
                       capture_output=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str, *, database: str = "postgres") -> str:
        """One statement through psql; its rows as text (tab-separated)."""
        return run_as_owner([str(self.bindir / "psql"), "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                             "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "-d", database, "-c", statement]).stdout.strip()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join((self.data / "server.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def base_backups(backup_dir: Path) -> list[Path]:
    """The finished base backups, oldest first (named by their UTC start time)."""
    return sorted(path for path in (backup_dir / "base").glob("*Z") if (path / "base.tar.gz").exists())


def _stamp(path: Path) -> datetime:
    return datetime.strptime(path.name, "%Y%m%dT%H%M%S%z")


def restore(backup: Path, *, archive: Path, data: Path, user: str = "postgres", target_time: datetime | None = None,
            target_name: str | None = None) -> Cluster:
    """Restores a base backup into `data` and replays the archived WAL up to the target (or to the
    archive's end), then promotes: a running, writable cluster on a free port."""
    owned_directory(data)
    run_as_owner(["tar", "-xzf", str(backup / "base.tar.gz"), "-C", str(data)])
    if (backup / "pg_wal.tar.gz").exists():
        run_as_owner(["tar", "-xzf", str(backup / "pg_wal.tar.gz"), "-C", str(data / "pg_wal")])
    version = (data / "PG_VERSION").read_text().strip()
    bindir = pg_bindir(version)
    if bindir is None:
        raise RuntimeError(f"the backup is of PostgreSQL {version}, whose programs are not installed")
    cluster = Cluster(data=data, port=free_port(), bindir=bindir, user=user)
    target = {}
    if target_time is not None:
        target = {"recovery_target_time": target_time.isoformat(), "recovery_target_inclusive": "on"}
    elif target_name is not None:
        target = {"recovery_target_name": target_name}
    cluster.configure({
        "restore_command": f"cp {archive}/%f %p", "recovery_target_action": "promote", **target,
        # The copy must never write into the primary's archive.
        "archive_mode": "off",
    })
    run_as_owner(["touch", str(data / "recovery.signal")])
    try:
        cluster.start()
        deadline = time.monotonic() + 600
        while cluster.sql("SELECT pg_is_in_recovery()") != "f":
            if time.monotonic() > deadline:
                raise RuntimeError("the restored cluster did not finish recovery in 600 s")
            time.sleep(0.1)
    except Exception as error:
        cluster.stop()
        raise RuntimeError(f"{error}\n{cluster.log_tail()}") from None
    return cluster


def _database_url(template: str, cluster: Cluster) -> str:
    """The platform's DATABASE_URL (its user, password and database name) pointed at the restored copy."""
    parts = urlsplit(template)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@127.0.0.1:{cluster.port}" if credentials else f"127.0.0.1:{cluster.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _manage(database_url: str, *args: str) -> dict[str, Any]:
    env = {**os.environ, "DATABASE_URL": database_url}
    env.pop("REDIS_URL", None)  # the copy is checked alone: nothing may reach the live platform's queues
    result = subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], capture_output=True, text=True, env=env, cwd=ROOT)
    return {"ok": result.returncode == 0, "output": (result.stdout + result.stderr).strip().splitlines()[-6:]}


def published_head(published_dir: Path, *, as_of: datetime) -> tuple[dict[str, Any] | None, list[Path]]:
    """The last head published at or before `as_of`, and the daily files up to that day."""
    # A file is named by its market date, which may be a day ahead of as_of's (UTC) date.
    last_day = (as_of + timedelta(days=1)).date().isoformat()
    files = sorted(path for path in published_dir.glob("seal-heads-*.json") if path.name[11:21] <= last_day)
    latest = None
    for path in files:
        for head in json.loads(path.read_bytes())["heads"]:
            if datetime.fromisoformat(head["sealed_at"]) <= as_of:
                latest = head
    return latest, files


def primary_rpo(primary_url: str) -> dict[str, Any]:
    """How much the primary could lose if its disks went now: everything after the last archived WAL
    segment (at most `archive_timeout` of commits while archiving keeps up)."""
    import psycopg2

    with psycopg2.connect(primary_url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT setting::int FROM pg_settings WHERE name = 'archive_timeout'")
        (archive_timeout,) = cursor.fetchone()
        cursor.execute("SHOW archive_mode")
        (archive_mode,) = cursor.fetchone()
        cursor.execute("SELECT last_archived_wal, last_archived_time, failed_count, last_failed_time,"
                       " extract(epoch FROM now() - last_archived_time) FROM pg_stat_archiver")
        wal, archived_at, failed, failed_at, age = cursor.fetchone()
    connection.close()
    return {
        "archive_mode": archive_mode, "archive_timeout_seconds": archive_timeout, "last_archived_wal": wal,
        "last_archived_at": archived_at.isoformat() if archived_at else None,
        "seconds_since_last_archive": round(float(age), 1) if age is not None else None,
        "failed_archives": failed, "last_failed_at": failed_at.isoformat() if failed_at else None,
    }


def restore_drill(*, backup_dir: Path, published_dir: Path, database_url: str, primary_url: str | None,
                  target_time: datetime | None = None, target_name: str | None = None) -> dict[str, Any]:
    """Restores, checks and reports (module docstring). `database_url` gives the user, password and
    database name to use on the copy; `primary_url` the live primary whose archiving sets the RPO."""
    backups = base_backups(backup_dir)
    if target_time is not None:
        backups = [backup for backup in backups if _stamp(backup) <= target_time]
    if not backups:
        raise RuntimeError(f"no base backup in {backup_dir / 'base'}" + (f" from before {target_time}" if target_time else ""))
    workspace = Path(tempfile.mkdtemp(prefix="restore-drill-"))
    owned_directory(workspace)
    started = time.monotonic()
    cluster = None
    try:
        cluster = restore(backups[-1], archive=backup_dir / "wal", data=workspace / "data",
                          user=urlsplit(database_url).username or "postgres", target_time=target_time, target_name=target_name)
        rto = time.monotonic() - started
        copy_url = _database_url(database_url, cluster)
        database = urlsplit(copy_url).path.lstrip("/")
        # The last transaction replayed (none past the backup: the backup's own time).
        replayed = cluster.sql("SELECT pg_last_xact_replay_timestamp()")
        restored_to = datetime.fromisoformat(replayed.replace(" ", "T")) if replayed else _stamp(backups[-1])
        transfers, head = cluster.sql(
            "SELECT (SELECT count(*) FROM registry_transfer),"
            " (SELECT height || ' ' || block_hash FROM registry_sealblock ORDER BY height DESC LIMIT 1)", database=database,
        ).split("\t")
        published, files = published_head(published_dir, as_of=restored_to)
        check_ledger = _manage(copy_url, "check_ledger")
        against = ["--against", *map(str, files), "--as-of", restored_to.isoformat()] if files else []
        verify_seal_chain = _manage(copy_url, "verify_seal_chain", *against)
        restored_height, _, restored_hash = head.partition(" ")
        expected = (published["height"], published["head_hash"]) if published else (0, "")
        head_matches = (int(restored_height or 0), restored_hash) == expected
        report = {
            "base_backup": backups[-1].name,
            "target": target_name or (target_time.isoformat() if target_time else "end of the archive"),
            "restored_to": restored_to.isoformat(),
            "rto_seconds": round(rto, 1),
            "checks_seconds": round(time.monotonic() - started - rto, 1),
            "transfers": int(transfers),
            "restored_head": {"height": int(restored_height or 0), "head_hash": restored_hash},
            "published_head": published,
            "published_files": [path.name for path in files],
            "head_matches_published": head_matches,
            "check_ledger": check_ledger,
            "verify_seal_chain": verify_seal_chain,
            "rpo": primary_rpo(primary_url) if primary_url else None,
        }
        report["ok"] = check_ledger["ok"] and verify_seal_chain["ok"] and head_matches
        return report
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(workspace, ignore_errors=True)
