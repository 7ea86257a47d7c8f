#!/usr/bin/env bash
# Installs (from Debian's packages) what the test suite needs and a new machine may lack:
# Python 3.11, PostgreSQL, Redis, and Chromium for the browser tests. Does nothing when all are there.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

need=()
command -v python3.11 >/dev/null || need+=(python3.11 python3.11-venv)
command -v pg_ctlcluster >/dev/null || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  apt-get update -q
  apt-get install -y -q "${need[@]}"
fi
