#!/bin/sh
# The compose service "backup" (docker-compose.yml; README: Backups and recovery). As root: gives the
# shared volume's folders to postgres (the database's archive_command writes BACKUP_DIR/wal as that
# user, and retries until it can), then as postgres takes a base backup now and one every
# BACKUP_INTERVAL_SECONDS (a day by default), an hour after a failure.
set -eu
: "${BACKUP_DIR:=/backups}"
mkdir -p "$BACKUP_DIR/base" "$BACKUP_DIR/wal"
chown postgres:postgres "$BACKUP_DIR" "$BACKUP_DIR/base" "$BACKUP_DIR/wal"
while true; do
  if gosu postgres env BACKUP_DIR="$BACKUP_DIR" bash /app/scripts/base-backup.sh; then
    sleep "${BACKUP_INTERVAL_SECONDS:-86400}"
  else
    echo "base backup failed: trying again in an hour" >&2
    sleep 3600
  fi
done
