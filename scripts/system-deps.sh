#!/usr/bin/env bash
# Installs (from Debian's packages) what the test suite and the benchmarks need and a new machine may
# lack: Python 3.11, PostgreSQL, Redis and nginx (the shipped topology, which the burst test
# and bench/http_bench.py start), Chromium for the browser tests, gettext for the translations, and
# Pango with fonts (Latin and Chinese) for PDF exports. Only what is missing, without recommended
# packages, and nothing already installed is upgraded. Does nothing when all are there.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

need=()
# Debian's own Python (the Makefile's virtualenv is built from it: PGO and LTO, like the image's).
[ -x /usr/bin/python3.11 ] || need+=(python3.11)
dpkg -s python3.11-venv >/dev/null 2>&1 || need+=(python3.11-venv)
command -v pg_ctlcluster >/dev/null || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
[ -x /usr/sbin/nginx ] || need+=(nginx-light)
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || need+=(chromium)
# gettext: makemessages/compilemessages when the translations change (the compiled .mo files are
# committed, so running the site needs none of it).
command -v msgfmt >/dev/null || need+=(gettext)
# WeasyPrint (PDF exports) needs Pango and fonts: DejaVu, and WenQuanYi Micro Hei for Chinese names.
for package in libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core fonts-wqy-microhei; do
  dpkg -s "$package" >/dev/null 2>&1 || need+=("$package")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  apt-get update -q
  apt-get install -y -q --no-install-recommends --no-upgrade "${need[@]}"
fi
