#!/usr/bin/env bash
# One base backup of the PostgreSQL server that PGHOST/PGPORT/PGUSER/PGPASSWORD name (libpq's
# variables; the user needs the REPLICATION attribute, as the superuser has) into
# $BACKUP_DIR/base/<UTC time>/ (pg_basebackup: tar + gzip, with the WAL it needs to be consistent).
# Then keeps the newest $BACKUP_KEEP (default 7) and removes the archived WAL in $BACKUP_DIR/wal that
# only older backups needed (pg_archivecleanup). Run nightly (the compose service "backup", or cron
# on a plain server) as the user that owns $BACKUP_DIR; README: Backups and recovery.
set -euo pipefail
: "${BACKUP_DIR:?set BACKUP_DIR (base backups in BACKUP_DIR/base, archived WAL in BACKUP_DIR/wal)}"
keep=${BACKUP_KEEP:-7}
if [ "$(id -u)" = 0 ]; then
  echo "run this as the owner of BACKUP_DIR (postgres), not root: the restore reads the files as that user" >&2
  exit 1
fi
[ -n "${PG_BINDIR:-}" ] && export PATH="$PG_BINDIR:$PATH"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$BACKUP_DIR/base" "$BACKUP_DIR/wal"
# Written under a temporary name: a backup that failed half way is never taken for a whole one.
pg_basebackup --pgdata "$BACKUP_DIR/base/$stamp.partial" --format tar --gzip --wal-method stream \
  --checkpoint fast --label "carbon $stamp" --no-password
mv "$BACKUP_DIR/base/$stamp.partial" "$BACKUP_DIR/base/$stamp"
echo "base backup $BACKUP_DIR/base/$stamp"

mapfile -t backups < <(find "$BACKUP_DIR/base" -mindepth 1 -maxdepth 1 -name '*Z' | sort)
if [ "${#backups[@]}" -gt "$keep" ]; then
  for old in "${backups[@]:0:${#backups[@]}-keep}"; do rm -rf "$old"; echo "removed $old"; done
fi
oldest=$(find "$BACKUP_DIR/base" -mindepth 1 -maxdepth 1 -name '*Z' | sort | head -1)
# The first WAL segment the oldest kept backup needs: everything before it can go.
first_segment=$(tar -xzOf "$oldest/base.tar.gz" backup_label | sed -n 's/^START WAL LOCATION: .*(file \([0-9A-F]*\))$/\1/p')
if [ -n "$first_segment" ]; then
  pg_archivecleanup "$BACKUP_DIR/wal" "$first_segment"
fi
