#!/bin/sh
# The proxy container's start: nginx.conf from deploy/nginx.conf.template (envsubst fills only the
# template's own ${NAMES}; nginx's $variables stay), then nginx in the foreground.
set -eu
: "${NGINX_WORKERS:=auto}" "${NGINX_USER:=www-data}" "${NGINX_PID:=/run/nginx.pid}"
: "${NGINX_ERROR_LOG:=/dev/stderr}" "${NGINX_ACCESS_LOG:=/dev/stdout}" "${NGINX_MIME_TYPES:=/etc/nginx/mime.types}"
: "${NGINX_TEMP:=/var/lib/nginx}" "${NGINX_LISTEN:=8000}" "${WEB_UPSTREAM:=web:8000}" "${STREAM_UPSTREAM:=streams:8001}"
: "${STATIC_ROOT:=/srv/static}"
export NGINX_WORKERS NGINX_USER NGINX_PID NGINX_ERROR_LOG NGINX_ACCESS_LOG NGINX_MIME_TYPES NGINX_TEMP NGINX_LISTEN \
  WEB_UPSTREAM STREAM_UPSTREAM STATIC_ROOT
envsubst '${NGINX_WORKERS} ${NGINX_USER} ${NGINX_PID} ${NGINX_ERROR_LOG} ${NGINX_ACCESS_LOG} ${NGINX_MIME_TYPES} ${NGINX_TEMP} ${NGINX_LISTEN} ${WEB_UPSTREAM} ${STREAM_UPSTREAM} ${STATIC_ROOT}' \
  < /etc/nginx/nginx.conf.template > /etc/nginx/nginx.conf
mkdir -p "$NGINX_TEMP"
exec nginx -g 'daemon off;'
