#!/bin/sh
# The pooler container's start: pgbouncer.ini from deploy/pgbouncer.ini.template and the one user it
# knows (the platform's database user, with the database's password), then PgBouncer in the
# foreground, as the unprivileged postgres user (it refuses to run as root).
set -eu
: "${DB_HOST:=postgres}" "${DB_PORT:=5432}" "${DB_NAME:=carbon}" "${DB_USER:=carbon}" "${DB_PASSWORD:?set DB_PASSWORD}"
: "${POOL_MODE:=session}" "${POOL_SIZE:=16}" "${POOL_LISTEN_ADDR:=0.0.0.0}" "${POOL_LISTEN_PORT:=6432}"
: "${POOL_PID:=/var/run/pgbouncer/pgbouncer.pid}" "${POOL_LOG:=}" "${POOL_AUTH_TYPE:=scram-sha-256}"
: "${POOL_AUTH_FILE:=/var/run/pgbouncer/userlist.txt}"
export DB_HOST DB_PORT DB_NAME DB_USER POOL_MODE POOL_SIZE POOL_LISTEN_ADDR POOL_LISTEN_PORT POOL_PID POOL_LOG \
  POOL_AUTH_TYPE POOL_AUTH_FILE
mkdir -p /var/run/pgbouncer
envsubst '${DB_HOST} ${DB_PORT} ${DB_NAME} ${DB_USER} ${POOL_MODE} ${POOL_SIZE} ${POOL_LISTEN_ADDR} ${POOL_LISTEN_PORT} ${POOL_PID} ${POOL_LOG} ${POOL_AUTH_TYPE} ${POOL_AUTH_FILE}' \
  < /etc/pgbouncer/pgbouncer.ini.template > /var/run/pgbouncer/pgbouncer.ini
printf '"%s" "%s"\n' "$DB_USER" "$DB_PASSWORD" > "$POOL_AUTH_FILE"
chown -R postgres:postgres /var/run/pgbouncer
chmod 600 "$POOL_AUTH_FILE"
exec pgbouncer -u postgres /var/run/pgbouncer/pgbouncer.ini
